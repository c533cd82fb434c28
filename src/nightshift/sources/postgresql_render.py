"""``db_stats`` text for a PostgreSQL server, in the simulated world's shape
(psql tables over pg_stat_activity and pg_stat_statements), so the offline
reasoner reads a real server and a simulated one alike."""

from __future__ import annotations

from nightshift.sources.postgresql_queries import STATES, Session, Snapshot
from nightshift.sources.psql_table import age, one_line, psql_table


def _wait(s: Session) -> str:
    return f"{s.wait_event_type}:{s.wait_event}" if s.wait_event_type else "-"


def _sessions(rows: list[Session], chars: int, blocked: bool) -> str:
    headers = ["pid", "state", "xact_age", "query_age", "wait_event", "usename", "app"]
    if blocked:
        headers.insert(1, "blocked_by")
    body = []
    for s in rows:
        cells = [
            str(s.pid),
            s.state,
            age(s.xact_age),
            age(s.query_age),
            _wait(s),
            s.user,
            s.application,
        ]
        if blocked:
            cells.insert(1, ",".join(str(p) for p in s.blocked_by))
        body.append([*cells, one_line(s.query, chars)])
    return psql_table([*headers, "query"], body)


def render(snap: Snapshot, host: str, chars: int, long_seconds: float) -> str:
    total = snap.total
    pct = round(total * 100 / snap.max_connections) if snap.max_connections else 0
    reserved = snap.superuser_reserved + snap.reserved
    usable = snap.max_connections - reserved
    idle_tx = snap.states.get("idle in transaction", 0)
    # The words the reasoner reads as exhaustion ("max_connections", "remaining
    # connection slots") appear only when the server is out of slots, not in every
    # healthy answer.
    lines = [
        f"database {snap.database} (PostgreSQL {snap.version}) host={host}",
        f"connection slots: {snap.max_connections}   current: {total} ({pct}%)"
        f"   reserved: {reserved} (superuser_reserved_connections={snap.superuser_reserved}"
        f", reserved_connections={snap.reserved})",
        f"connections: {total}/{snap.max_connections} (idle in transaction: {idle_tx})",
    ]
    if total + 1 >= usable:  # this probe holds a slot too
        lines.append(
            f"note: {total} connections and this probe use every slot of max_connections open "
            f"to ordinary roles ({usable}); new clients get 'remaining connection slots are "
            "reserved'"
        )
    rows = [[state, str(snap.states.get(state, 0))] for state in STATES]
    rows.append(["active (waiting on lock)", str(snap.waiting)])
    rows += [[k, str(v)] for k, v in sorted(snap.states.items()) if k not in STATES]
    lines += ["", psql_table(["state", "count"], rows)]
    if snap.by_database:
        lines += ["", "connections by database:"]
        lines.append(
            psql_table(
                ["datname", "count", "idle in transaction", "waiting"],
                [[d, str(c), str(i), str(w)] for d, c, i, w in snap.by_database],
            )
        )
    if snap.by_client:
        lines += ["", "connections by application_name:"]
        lines.append(
            psql_table(
                ["application_name", "usename", "count", "active", "idle in transaction"],
                [[a, u, str(c), str(x), str(i)] for a, u, c, x, i in snap.by_client],
            )
        )
    lines += ["", f"sessions waiting on locks: {len(snap.waiters)}"]
    if snap.waiters:
        lines.append(_sessions(snap.waiters, chars, blocked=True))
        holders = {b.pid: b for b in snap.blockers}
        for w in snap.waiters[:5]:
            for pid in w.blocked_by[:3]:
                b = holders.get(pid)
                how = f" ({b.application}, {b.state} for {age(b.xact_age)})" if b else ""
                lines.append(
                    f"pid {w.pid} ({w.application}) blocked by pid {pid}{how}, waiting "
                    f"{age(w.query_age)} on {_wait(w)}"
                )
    if snap.blockers:
        lines += ["", "blocking sessions (pg_blocking_pids):"]
        lines.append(_sessions(snap.blockers, chars, blocked=False))
    if snap.long_running:
        lines += ["", f"long-running transactions and queries (> {long_seconds:g}s):"]
        lines.append(_sessions(snap.long_running, chars, blocked=False))
        oldest = snap.long_running[0]
        lines.append(
            f"oldest transaction: {age(oldest.xact_age)}, state={oldest.state}, "
            f"application_name={oldest.application}, last statement: "
            f"{one_line(oldest.query, chars)}"
        )
    if snap.statements:
        lines += ["", "top statements by mean time (pg_stat_statements):"]
        lines.append(
            psql_table(
                ["calls", "mean_ms", "max_ms", "rows", "datname", "query"],
                [
                    [
                        str(q.calls),
                        f"{q.mean_ms:.1f}",
                        f"{q.max_ms:.1f}",
                        str(q.rows),
                        q.database,
                        one_line(q.query, chars),
                    ]
                    for q in snap.statements
                ],
            )
        )
    elif snap.statements is None and snap.statements_note is None:
        lines.append("\npg_stat_statements: not installed in this database")
    if snap.statements_note:
        lines.append(f"\nnote: {one_line(snap.statements_note, 200)}")
    if not snap.privileged:
        lines.append(
            "note: this role lacks pg_read_all_stats (grant pg_monitor): other roles' "
            "sessions show as <insufficient privilege>"
        )
    return "\n".join(lines)


def render_refused(database: str, host: str, message: str, max_connections: str) -> str:
    """The server turned this probe away for want of slots: that is the finding."""
    return "\n".join(
        [
            f"database {database} (PostgreSQL) host={host}",
            f"connect: FATAL: {one_line(message, 240)}",
            f"connections: exhausted (the server refused a new connection; max_connections"
            f"{' ' + max_connections if max_connections else ''} reached for ordinary roles)",
            "note: too many connections: pg_stat_activity could not be read, no free slot",
        ]
    )
