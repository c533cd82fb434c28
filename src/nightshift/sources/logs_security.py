"""Security log lines as the ``security_events`` table the simulated world prints.

Kubernetes audit records (JSON, ``apiVersion: audit.k8s.io/v1``) give a principal,
a target and an HTTP outcome; any other line is classified by its words
(certificates, 401/authentication, 403/authorization). Identical events are
grouped with a count, newest first, so a flood of one failure stays one row.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from nightshift.sources.logs_query import LogLine, LogPage, one_line, rfc3339

_CERT = re.compile(r"x509|certificate|tls: ", re.I)
_AUTHN = re.compile(r"\b401\b|unauthori[sz]ed|authentication|invalid (token|credentials)", re.I)
_AUTHZ = re.compile(r"\b403\b|forbidden|access denied|permission denied|not allowed", re.I)
_COLUMNS = ("TIME", "SOURCE", "TYPE", "PRINCIPAL", "TARGET", "OUTCOME", "COUNT", "MESSAGE")
_MESSAGE_CHARS = 300
_URI_NAMESPACE = re.compile(r"/namespaces/([^/?]+)")


def _audit(line: str) -> Mapping[str, Any] | None:
    if not line.startswith("{") or "audit.k8s.io" not in line:
        return None
    try:
        record = json.loads(line)
    except ValueError:
        return None
    return record if isinstance(record, dict) and record.get("kind") == "Event" else None


def _classify(text: str, code: int | None) -> tuple[str, str]:
    if code == 401 or (code is None and _AUTHN.search(text)):
        return "authentication-failure", "failure"
    if code == 403 or (code is None and _AUTHZ.search(text)):
        return "authorization-denied", "denied"
    if _CERT.search(text):
        return "certificate", "failure"
    if code is not None and code >= 400:
        return "request-failure", "failure"
    return "security-log", "warning"


def _event(x: LogLine, source: str) -> dict[str, Any]:
    origin = x.labels.get("job") or x.labels.get("app") or next(iter(x.labels.values()), source)
    record = _audit(x.line)
    if record is None:
        kind, outcome = _classify(x.line, None)
        target = x.labels.get("pod") or x.labels.get("app") or "-"
        return {
            "type": kind,
            "principal": "-",
            "target": target,
            "outcome": outcome,
            "source": origin,
            "message": one_line(x.line, _MESSAGE_CHARS),
            "namespace": "",
        }
    user = record.get("user") or {}
    obj = record.get("objectRef") or {}
    status = record.get("responseStatus") or {}
    raw_code = str(status.get("code", ""))  # a string when the store parsed the JSON
    code = int(raw_code) if raw_code.isdigit() else None
    target = "/".join(str(obj[k]) for k in ("namespace", "resource", "name") if obj.get(k))
    uri = str(record.get("requestURI", ""))
    in_uri = _URI_NAMESPACE.search(uri)
    namespace = str(obj.get("namespace") or (in_uri.group(1) if in_uri else ""))
    reason = str(status.get("reason") or status.get("message") or "")
    kind, outcome = _classify(f"{reason} {status.get('message', '')}", code)
    message = f"{record.get('verb', '?')} {uri}: {code or ''} {reason}".strip()
    ips = record.get("sourceIPs") or []
    if isinstance(ips, str):  # flattened by the store: '["10.0.0.7"]'
        ips = re.findall(r"[0-9A-Fa-f:.]{3,}", ips)
    if ips:
        message += f" from {', '.join(str(ip) for ip in ips[:3])}"
    return {
        "type": kind,
        "principal": str(user.get("username") or "-"),
        "target": target or uri or "-",
        "outcome": outcome,
        "source": origin,
        "message": one_line(message, _MESSAGE_CHARS),
        "namespace": namespace,
    }


def render_security(
    page: LogPage,
    source: str,
    window_minutes: int,
    allows_namespace: Callable[[str], bool] = lambda _: True,
) -> tuple[str, list[dict[str, Any]]]:
    """(table text, grouped events) for the page's lines (already newest first).

    Audit records about objects in namespaces outside the agent's boundaries are
    left out (counted, not shown): the audit log covers the whole cluster."""
    groups: dict[tuple[str, ...], dict[str, Any]] = {}
    hidden = 0
    for x in page.lines:
        event = _event(x, source)
        if event["namespace"] and not allows_namespace(event["namespace"]):
            hidden += 1
            continue
        key = tuple(
            str(event[k]) for k in ("source", "type", "principal", "target", "outcome", "message")
        )
        seen = groups.get(key)
        if seen is None:
            groups[key] = {**event, "time": rfc3339(x.ts_ns), "count": 1}
        else:
            seen["count"] += 1
    events = list(groups.values())
    rows = [
        [
            e["time"],
            e["source"],
            e["type"],
            e["principal"],
            e["target"],
            e["outcome"],
            str(e["count"]),
            e["message"],
        ]
        for e in events
    ]
    shown = len(page.lines)
    matched = page.matched if page.matched is not None and page.matched >= shown else None
    total = f"{matched}" if matched is not None else f"at least {shown}"
    head = (
        f"{total} security log lines matched in the last {window_minutes} min; "
        f"the newest {shown} grouped into {len(events)} events"
    )
    text = "\n".join([head, _table(rows)]) if rows else head
    if hidden:
        text += f"\n({hidden} lines about namespaces outside this agent's boundaries not shown)"
    if matched is not None and matched > shown:
        more = matched - shown
        text += f"\n... {more} more matching lines not shown (narrow target or since_minutes)"
    return text, events


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(_COLUMNS)]
    lines = [_COLUMNS, *rows]
    return "\n".join(
        "   ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:-1])) + "   " + row[-1]
        for row in lines
    )
