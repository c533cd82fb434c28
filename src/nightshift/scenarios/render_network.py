"""Connectivity probes, firewall rules, DNS answers and database health as text.

Probe and DNS output imitate ``nc -vz`` and ``nslookup`` from inside a pod,
database output imitates ``psql`` against pg_stat_activity/pg_stat_statements
and pgbouncer's ``SHOW POOLS``: what an engineer would paste into a ticket.
"""

from __future__ import annotations

from datetime import datetime

from nightshift.k8s.kubectl_time import human_duration
from nightshift.scenarios.model import Database, DnsAnswer, FirewallRuleset, NetworkCheck
from nightshift.scenarios.tabular import table

CLUSTER_DNS = "10.96.0.10"


def render_probe(check: NetworkCheck, destination: str, port: int | None) -> str:
    target = f"{destination} {port}" if port else destination
    port_text = str(port) if port else "80"
    lines = [f"$ nc -vz -w 5 {target}"]
    match check.result:
        case "ok":
            lines.append(f"Connection to {destination} {port_text} port [tcp/*] succeeded!")
            if check.latency_ms is not None:
                lines.append(f"connect time: {check.latency_ms:.1f} ms")
        case "timeout":
            lines.append(
                f"nc: connect to {destination} port {port_text} (tcp) timed out: "
                "Operation now in progress"
            )
        case "refused":
            lines.append(
                f"nc: connect to {destination} port {port_text} (tcp) failed: Connection refused"
            )
        case "reset":
            lines.append(f"Connection to {destination} {port_text} port [tcp/*] succeeded!")
            lines.append("nc: read(net): Connection reset by peer")
        case "unreachable":
            lines.append(
                f"nc: connect to {destination} port {port_text} (tcp) failed: No route to host"
            )
        case "tls-error":
            lines.append(f"Connection to {destination} {port_text} port [tcp/*] succeeded!")
    if check.detail:
        lines.append(check.detail.rstrip())
    return "\n".join(lines)


def render_unresolvable(destination: str, port: int | None) -> str:
    return (
        f"$ nc -vz -w 5 {destination} {port or 80}\n"
        f'nc: getaddrinfo for host "{destination}" port {port or 80}: '
        "Name or service not known"
    )


def render_firewall(rulesets: list[FirewallRuleset], now: datetime) -> str:
    blocks = []
    for rs in rulesets:
        rows = [
            [
                str(r.priority),
                r.id,
                r.direction,
                r.action.upper(),
                r.protocol,
                r.source,
                r.destination,
                r.ports,
                human_duration(r.age),
                r.change or "-",
                r.description,
            ]
            for r in sorted(rs.rules, key=lambda r: (r.priority, r.id))
        ]
        head = (
            f"ruleset {rs.name} on {rs.device} (default action: {rs.default_action.upper()}"
            f"; applies to: {', '.join(rs.applies_to) or 'all'})"
        )
        blocks.append(
            head
            + "\n"
            + table(
                [
                    "PRIO",
                    "RULE",
                    "DIR",
                    "ACTION",
                    "PROTO",
                    "SOURCE",
                    "DESTINATION",
                    "PORTS",
                    "AGE",
                    "CHANGE",
                    "DESCRIPTION",
                ],
                rows,
            )
        )
    return "\n\n".join(blocks)


def render_dns(answer: DnsAnswer, name: str) -> str:
    head = f"Server:\t\t{CLUSTER_DNS}\nAddress:\t{CLUSTER_DNS}#53\n"
    match answer.result:
        case "nxdomain":
            return head + f"\n** server can't find {name}: NXDOMAIN"
        case "servfail":
            return head + f"\n** server can't find {name}: SERVFAIL"
        case "timeout":
            return ";; connection timed out; no servers could be reached"
    lines = [head]
    if answer.cname:
        lines.append(f"{name}\tcanonical name = {answer.cname}.")
    shown = answer.cname or name
    for addr in answer.addresses:
        lines.append(f"Name:\t{shown}\nAddress: {addr}")
    return "\n".join(lines)


def render_database(db: Database) -> str:
    c = db.connections
    total = c.active + c.idle + c.idle_in_transaction + c.waiting
    pct = round(total * 100 / db.max_connections) if db.max_connections else 0
    lines = [
        f"database {db.name} ({db.engine} {db.version}) host={db.host}",
        f"max_connections: {db.max_connections}   current: {total} ({pct}%)",
        "",
    ]
    state_rows = [
        ["active", str(c.active)],
        ["idle", str(c.idle)],
        ["idle in transaction", str(c.idle_in_transaction)],
        ["active (waiting on lock)", str(c.waiting)],
    ]
    lines.append(_psql(["state", "count"], state_rows))
    if db.by_client:
        lines += ["", "connections by application_name:"]
        lines.append(
            _psql(
                ["application_name", "count"],
                [[k, str(v)] for k, v in sorted(db.by_client.items(), key=lambda kv: -kv[1])],
            )
        )
    if db.pools:
        lines += ["", "pooler (SHOW POOLS):"]
        lines.append(
            _psql(
                ["pool", "kind", "size", "sv_active", "cl_waiting", "maxwait_ms"],
                [
                    [
                        p.name,
                        p.kind,
                        str(p.size),
                        str(p.in_use),
                        str(p.waiting_clients),
                        f"{p.max_wait_ms:.0f}",
                    ]
                    for p in db.pools
                ],
            )
        )
    lines += ["", f"sessions waiting on locks: {db.locks_waiting}"]
    if db.slow_queries:
        lines += ["", "top statements by mean time (pg_stat_statements):"]
        lines.append(
            _psql(
                ["calls", "mean_ms", "max_ms", "rows", "query"],
                [
                    [str(q.calls), f"{q.mean_ms:.1f}", f"{q.max_ms:.1f}", str(q.rows), q.query]
                    for q in db.slow_queries
                ],
            )
        )
    if db.replication_lag_s is not None:
        lines.append(f"\nreplication lag: {db.replication_lag_s:.1f}s")
    if db.disk_used_pct is not None:
        lines.append(f"data volume used: {db.disk_used_pct:.0f}%")
    lines += [f"note: {n}" for n in db.notes]
    return "\n".join(lines)


def _psql(headers: list[str], rows: list[list[str]]) -> str:
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)
    ]
    head = " " + " | ".join(h.center(widths[i]) for i, h in enumerate(headers))
    sep = "-" + "-+-".join("-" * w for w in widths) + "-"
    body = [
        " "
        + " | ".join(
            cell.rjust(widths[i]) if cell.replace(".", "").isdigit() else cell.ljust(widths[i])
            for i, cell in enumerate(r)
        ).rstrip()
        for r in rows
    ]
    return "\n".join([head.rstrip(), sep, *body, f"({len(rows)} rows)"])
