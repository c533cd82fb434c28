"""The non-kubectl tools: alerts, changes, metrics, logs, network, DNS, DB, security."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from nightshift.agent.tools.alert_summary import AlertFold, render
from nightshift.agent.tools.protocol import ToolResult
from nightshift.scenarios.clock import at
from nightshift.scenarios.describe_other import describe_netpol
from nightshift.scenarios.model import DnsAnswer, NetworkCheck, WorldState
from nightshift.scenarios.promql import PromQLError, matches, selectors
from nightshift.scenarios.render_network import (
    render_database,
    render_dns,
    render_firewall,
    render_probe,
    render_unresolvable,
)
from nightshift.scenarios.render_signals import (
    render_changes,
    render_security,
    render_series,
    search_logs,
)
from nightshift.scenarios.tools_kube import error, no_data, ok

# The answer budget of a real alert source's default: the simulated storm is
# summarized the way Alertmanager's is, so 30,000 alerts fit as well as 300.
ALERT_ANSWER_CHARS = 16_000


def list_alerts(state: WorldState, now: datetime, p: Mapping[str, Any]) -> ToolResult:
    fold = AlertFold()
    for a in state.alerts:
        if (not p.get("domain") or a.domain.value == p["domain"]) and (
            not p.get("severity") or a.severity == p["severity"]
        ):
            starts = at(now, a.since).timestamp()
            fold.add(a.name, a.severity, a.target, a.domain.value, a.summary, starts)
    if not fold.total:
        return no_data("no alerts firing")
    groups = sorted(fold.groups.values(), key=lambda g: (-g.last, -g.count, g.name, g.target))
    data = {
        "total": fold.total,
        "groups": len(fold.groups),
        "by_severity": dict(fold.severities),
        "newest": [
            {"name": g.name, "severity": g.severity, "domain": g.domain, "target": g.target,
             "count": g.count, "first_seen": g.first, "last_seen": g.last, "summary": g.summary}
            for g in groups[:50]
        ],
    }  # fmt: skip
    return ok(render(fold, now.timestamp(), ALERT_ANSWER_CHARS), data)


def recent_changes(state: WorldState, now: datetime, p: Mapping[str, Any]) -> ToolResult:
    window = int(p.get("since_minutes") or 1440) * 60
    changes = [
        c
        for c in state.changes
        if c.at <= window and (not p.get("domain") or c.domain.value == p["domain"])
    ]
    if not changes:
        return no_data(f"no changes recorded in the last {window // 60} minutes")
    data = {
        "changes": [
            {
                "id": c.id,
                "at_seconds_ago": c.at,
                "domain": c.domain.value,
                "kind": c.kind,
                "target": c.target,
                "actor": c.actor,
                "summary": c.summary,
            }
            for c in changes
        ]
    }
    return ok(render_changes(changes, now), data)


def prometheus_query(state: WorldState, now: datetime, p: Mapping[str, Any]) -> ToolResult:
    query = str(p["query"]).strip()
    try:
        sels = selectors(query, {s.name for s in state.metrics})
        found = [s for s in state.metrics if any(matches(s, sel) for sel in sels)]
    except PromQLError as exc:
        return error(f'bad_data: invalid parameter "query": 1:1: parse error: {exc}')
    if not found:
        return no_data(f"query: {query}\nempty result: no series matched")
    range_minutes = int(p.get("range_minutes") or 60)
    data = {"series": [{"metric": s.name, "labels": dict(s.labels)} for s in found]}
    return ok(render_series(query, found, range_minutes), data)


def logs_search(state: WorldState, now: datetime, p: Mapping[str, Any]) -> ToolResult:
    hits, total = search_logs(state, str(p["pattern"]), p.get("namespace"), p.get("app"))
    if not hits:
        return no_data(f"no log lines matched {p['pattern']!r}")
    text = "\n".join(hits)
    if total > len(hits):
        text += f"\n... {total - len(hits)} more matching lines not shown"
    return ok(text, {"matches": total})


def _same(a: str, b: str) -> bool:
    a, b = a.lower().rstrip("."), b.lower().rstrip(".")
    return (
        a == b
        or a.startswith(b + ".")
        or b.startswith(a + ".")
        or a.endswith("/" + b)
        or b.endswith("/" + a)
    )


def _source_matches(recorded: str, given: str) -> bool:
    """A recorded source ``billing`` matches ``billing/billing-api`` (namespace or app)."""
    given_l = given.lower()
    parts = {given_l, *given_l.replace(".", "/").split("/")}
    return recorded.lower() in parts or _same(recorded, given)


def _service_ip(state: WorldState, host: str) -> str | None:
    parts = host.lower().rstrip(".").split(".")
    for svc in state.services:
        if parts[0] != svc.name:
            continue
        if len(parts) == 1 or parts[1] == svc.namespace:
            return svc.cluster_ip
    return None


def network_check(state: WorldState, now: datetime, p: Mapping[str, Any]) -> ToolResult:
    source, dest, port = str(p["source"]), str(p["destination"]), p.get("port")
    if ":" in dest and port is None and dest.rsplit(":", 1)[1].isdigit():
        dest, port = dest.rsplit(":", 1)[0], int(dest.rsplit(":", 1)[1])
    for check in state.network_checks:
        if (
            _same(check.source, source)
            and _same(check.destination, dest)
            and (port is None or check.port is None or check.port == port)
        ):
            port = port or check.port
            return ok(
                render_probe(check, dest, port),
                {"result": check.result, "latency_ms": check.latency_ms},
            )
    if _service_ip(state, dest) is None and not dest.replace(".", "").isdigit():
        return ok(render_unresolvable(dest, port), {"result": "unresolvable"})
    default = NetworkCheck(source=source, destination=dest, port=port, latency_ms=1.2)
    return ok(render_probe(default, dest, port), {"result": "ok", "latency_ms": 1.2})


def _devices(device: str) -> set[str]:
    """ "fw-dc-edge-01/02" is the pair fw-dc-edge-01 and fw-dc-edge-02 (and its own name)."""
    names = {device.lower()}
    head, *tails = device.lower().split("/")
    names.add(head)
    for tail in tails:
        names.add(head[: len(head) - len(tail)] + tail if len(tail) < len(head) else tail)
    return names


def firewall_rules(state: WorldState, now: datetime, p: Mapping[str, Any]) -> ToolResult:
    target = str(p.get("target") or "").lower()
    rulesets = [
        rs
        for rs in state.firewall
        if not target
        or any(target in x.lower() or x.lower() in target for x in rs.applies_to)
        or any(target in f"{r.source} {r.destination}".lower() for r in rs.rules)
        or target == rs.name.lower()
        or target in _devices(rs.device)
    ]
    ns = target.split("/")[0]
    policies = [
        np for np in state.network_policies if not target or np.namespace == ns or np.name == target
    ]
    if not rulesets and not policies:
        return no_data(f"no firewall rules or network policies apply to {target or 'anything'}")
    blocks = [render_firewall(rulesets, now)] if rulesets else []
    for np in policies:
        blocks.append(
            f"NetworkPolicy {np.namespace}/{np.name}:\n" + describe_netpol(state, np, now)
        )
    data = {
        "rulesets": [rs.name for rs in rulesets],
        "network_policies": [f"{np.namespace}/{np.name}" for np in policies],
        "rules": [{"ruleset": rs.name, **r.model_dump()} for rs in rulesets for r in rs.rules],
    }
    return ok("\n\n".join(blocks), data)


def dns_lookup(state: WorldState, now: datetime, p: Mapping[str, Any]) -> ToolResult:
    name, source = str(p["name"]), p.get("source")
    candidates = [d for d in state.dns if _same(d.name, name)]
    scoped = [
        d for d in candidates if d.source and source and _source_matches(d.source, str(source))
    ]
    pool = scoped or [d for d in candidates if not d.source] or candidates
    answer = pool[0] if pool else None
    if answer is None:
        ip = _service_ip(state, name)
        answer = (
            DnsAnswer(name=name, result="ok", addresses=[ip])
            if ip
            else DnsAnswer(name=name, result="nxdomain")
        )
        if ip and name.count(".") < 2:
            svc_ns = name.split(".")[1] if "." in name else "default"
            name = f"{name.split('.')[0]}.{svc_ns}.svc.cluster.local"
    return ok(
        render_dns(answer, name), {"result": answer.result, "addresses": list(answer.addresses)}
    )


def db_stats(state: WorldState, now: datetime, p: Mapping[str, Any]) -> ToolResult:
    wanted = str(p["database"]).lower()
    for db in state.databases:
        if wanted in (db.name.lower(), db.host.lower()) or _same(db.host, wanted):
            return ok(render_database(db), db.model_dump())
    known = ", ".join(db.name for db in state.databases) or "none"
    return no_data(f"no database named {p['database']!r} is monitored (known: {known})")


def security_events(state: WorldState, now: datetime, p: Mapping[str, Any]) -> ToolResult:
    window = int(p.get("since_minutes") or 1440) * 60
    target = str(p.get("target") or "").lower()
    events = [
        e
        for e in state.security_events
        if e.at <= window
        and (not target or target in f"{e.target} {e.principal} {e.source}".lower())
    ]
    if not events:
        return no_data("no security events in the window")
    data = {"events": [e.model_dump() for e in events]}
    return ok(render_security(events, now), data)
