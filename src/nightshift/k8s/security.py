"""``security_events`` from the cluster: Warning events about identity and trust.

Authentication and authorization refusals, certificate and token trouble and
Secrets that could not be mounted, as the kubelet and controllers report them.
Audit logs and application auth failures come from the log sources; this is
what the API server itself can tell. The columns are the simulated world's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from nightshift.agent.tools.protocol import ToolResult, ToolStatus
from nightshift.k8s.reads import Lister, Obj, Scopes, event_count, event_time, meta, rfc3339, table

DEFAULT_MINUTES = 1440
MAX_ROWS = 100
# (type, pattern): the first that matches the reason + message classifies the event.
_TYPES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("certificate", re.compile(r"x509|certificate|tls: |handshake", re.I)),
    ("token", re.compile(r"\btoken\b|serviceaccount token|bound token|jwt", re.I)),
    ("authentication", re.compile(r"unauthori[sz]ed|authenticat|401\b|invalid credentials", re.I)),
    ("authorization", re.compile(r"forbidden|is not allowed|cannot \w+ resource|rbac|403\b", re.I)),
    ("image-pull-auth", re.compile(r"pull access denied|authorization failed|no basic auth", re.I)),
)
_DENIALS = frozenset({"authentication", "authorization", "image-pull-auth"})
_SECRET_MOUNT = re.compile(r"secret", re.I)
_PRINCIPAL = re.compile(r'User "([^"]+)"|serviceaccount[ "]+([a-z0-9.:-]+)', re.I)


def classify(event: Obj) -> str | None:
    reason = str(event.get("reason", ""))
    message = str(event.get("message") or event.get("note") or "")
    if reason == "FailedMount" and _SECRET_MOUNT.search(message):
        return "secret-mount"
    for kind, pattern in _TYPES:
        if pattern.search(f"{reason} {message}"):
            return kind
    return None


def security_events(
    lister: Lister, scopes: Scopes, params: Mapping[str, Any], now: datetime
) -> ToolResult:
    minutes = int(params.get("since_minutes") or DEFAULT_MINUTES)
    since = now - timedelta(minutes=minutes)
    wanted = str(params.get("target") or "").lower()
    found: list[tuple[datetime, str, Obj]] = []
    for ns in scopes(None):
        for event in lister.items("v1", "events", ns, {"fieldSelector": "type=Warning"}):
            when = event_time(event)
            kind = classify(event)
            if kind is None or when is None or when < since:
                continue
            if wanted and wanted not in _haystack(event):
                continue
            found.append((when, kind, event))
    if not found:
        scope = f" about {wanted!r}" if wanted else ""
        why = (
            f"no authentication, authorization or certificate events{scope} "
            f"in the last {minutes} minutes"
        )
        return ToolResult(ToolStatus.NO_DATA, why + lister.note())
    found.sort(key=lambda f: f[0], reverse=True)
    rows = [_row(when, kind, event) for when, kind, event in found[:MAX_ROWS]]
    head = ["TIME", "SOURCE", "TYPE", "PRINCIPAL", "TARGET", "OUTCOME", "COUNT", "MESSAGE"]
    text = table(head, rows)
    if len(found) > MAX_ROWS:
        text += f"\n... {len(found) - MAX_ROWS} older events not shown"
    data = {"events": [dict(zip(head, r, strict=True)) for r in rows]}
    return ToolResult(ToolStatus.OK, text + lister.note(), data)


def _haystack(event: Obj) -> str:
    obj = event.get("involvedObject") or {}
    return " ".join(
        str(x)
        for x in (obj.get("namespace"), obj.get("kind"), obj.get("name"), event.get("message"))
    ).lower()


def _row(when: datetime, kind: str, event: Obj) -> list[str]:
    obj = event.get("involvedObject") or {}
    source = event.get("source") or {}
    component = event.get("reportingComponent") or source.get("component") or "kubernetes"
    message = " ".join(str(event.get("message") or "").split())
    principal = _PRINCIPAL.search(message)
    who = next((g for g in principal.groups() if g), "-") if principal else "-"
    ns = obj.get("namespace") or meta(event).get("namespace", "")
    return [
        rfc3339(when),
        str(component),
        kind,
        who,
        f"{ns}/{obj.get('kind', '')}/{obj.get('name', '')}",
        "denied" if kind in _DENIALS else "failed",
        str(event_count(event)),
        f"{event.get('reason', '')}: {message}"[:200],
    ]
