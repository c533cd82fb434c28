"""What ``db_stats`` reads from PostgreSQL's statistics views, in one read-only
transaction with a statement timeout. Every query is bounded (LIMIT, truncated
query text), so a server with thousands of sessions still answers small.

Reading other roles' sessions and pg_stat_statements needs the ``pg_monitor``
role; without it PostgreSQL shows their state as ``<insufficient privilege>``,
which the answer says.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from nightshift.sources.psql_table import scrub

if TYPE_CHECKING:
    from psycopg import AsyncConnection

STATES = ("active", "idle", "idle in transaction", "idle in transaction (aborted)")

_SETTINGS = """
SELECT current_setting('max_connections')::int,
       current_setting('superuser_reserved_connections')::int,
       coalesce(current_setting('reserved_connections', true), '0')::int,
       current_setting('server_version'),
       current_setting('server_version_num')::int,
       current_database(),
       pg_has_role(current_user, 'pg_read_all_stats', 'USAGE')
"""
# Client backends only (not autovacuum, walsender...), and never this probe itself.
_CLIENTS = "backend_type = 'client backend' AND pid <> pg_backend_pid()"
_BY_STATE = f"""
SELECT coalesce(state, '<insufficient privilege>'),
       count(*) FILTER (WHERE wait_event_type IS DISTINCT FROM 'Lock'),
       count(*) FILTER (WHERE wait_event_type = 'Lock')
FROM pg_stat_activity WHERE {_CLIENTS} GROUP BY 1
"""
_BY_DATABASE = f"""
SELECT coalesce(datname, '-'), count(*),
       count(*) FILTER (WHERE state LIKE 'idle in transaction%%'),
       count(*) FILTER (WHERE wait_event_type = 'Lock')
FROM pg_stat_activity WHERE {_CLIENTS} GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT %(rows)s
"""
_BY_CLIENT = f"""
SELECT coalesce(nullif(application_name, ''), '-'), coalesce(usename, '-'), count(*),
       count(*) FILTER (WHERE state = 'active'),
       count(*) FILTER (WHERE state LIKE 'idle in transaction%%')
FROM pg_stat_activity WHERE {_CLIENTS} GROUP BY 1, 2 ORDER BY 3 DESC, 1 LIMIT %(rows)s
"""
_SESSION = """pid, coalesce(usename, '-'), coalesce(nullif(application_name, ''), '-'),
       coalesce(datname, '-'), coalesce(state, '-'), wait_event_type, wait_event,
       extract(epoch FROM now() - xact_start)::float8,
       extract(epoch FROM now() - query_start)::float8,
       left(query, %(chars)s)"""
_WAITING = f"""
SELECT {_SESSION}, pg_blocking_pids(pid)
FROM pg_stat_activity
WHERE {_CLIENTS} AND cardinality(pg_blocking_pids(pid)) > 0
ORDER BY query_start LIMIT %(rows)s
"""
_BLOCKERS = f"""
SELECT {_SESSION}, pg_blocking_pids(pid)
FROM pg_stat_activity WHERE pid = ANY(%(pids)s) ORDER BY xact_start NULLS LAST LIMIT %(rows)s
"""
_LONG = f"""
SELECT {_SESSION}, ARRAY[]::int[]
FROM pg_stat_activity
WHERE {_CLIENTS}
  AND (xact_start < now() - make_interval(secs => %(secs)s)
       OR (state = 'active' AND query_start < now() - make_interval(secs => %(secs)s)))
ORDER BY least(xact_start, query_start) LIMIT %(rows)s
"""
_HAS_STATEMENTS = "SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements'"
_STATEMENTS = """
SELECT s.calls, s.{mean}, s.{max}, s.rows, coalesce(d.datname, '-'), left(s.query, %(chars)s)
FROM pg_stat_statements s LEFT JOIN pg_database d ON d.oid = s.dbid
WHERE s.userid <> (SELECT oid FROM pg_roles WHERE rolname = current_user)
ORDER BY s.{mean} DESC LIMIT %(top)s
"""


@dataclass(frozen=True, slots=True)
class Session:
    pid: int
    user: str
    application: str
    database: str
    state: str
    wait_event_type: str | None
    wait_event: str | None
    xact_age: float | None
    query_age: float | None
    query: str
    blocked_by: tuple[int, ...] = ()

    @classmethod
    def of(cls, row: tuple[Any, ...]) -> Session:
        pid, user, app, db, state, wait_type, wait, xact_age, query_age, query, blocked = row
        return cls(
            int(pid),
            str(user),
            str(app),
            str(db),
            str(state),
            wait_type,
            wait,
            xact_age,
            query_age,
            scrub(query),
            tuple(int(p) for p in blocked or ()),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "pid": self.pid,
            "user": self.user,
            "application_name": self.application,
            "database": self.database,
            "state": self.state,
            "wait_event": f"{self.wait_event_type}:{self.wait_event}"
            if self.wait_event_type
            else None,
            "xact_age_s": self.xact_age,
            "query_age_s": self.query_age,
            "query": self.query,
            "blocked_by": list(self.blocked_by),
        }


@dataclass(frozen=True, slots=True)
class Statement:
    calls: int
    mean_ms: float
    max_ms: float
    rows: int
    database: str
    query: str


@dataclass(slots=True)
class Snapshot:
    max_connections: int
    superuser_reserved: int
    reserved: int
    version: str
    database: str
    privileged: bool
    states: dict[str, int] = field(default_factory=dict)
    waiting: int = 0
    by_database: list[tuple[str, int, int, int]] = field(default_factory=list)
    by_client: list[tuple[str, str, int, int, int]] = field(default_factory=list)
    waiters: list[Session] = field(default_factory=list)
    blockers: list[Session] = field(default_factory=list)
    long_running: list[Session] = field(default_factory=list)
    statements: list[Statement] | None = None  # None: pg_stat_statements not installed
    statements_note: str | None = None

    @property
    def total(self) -> int:
        return sum(self.states.values()) + self.waiting


@dataclass(frozen=True, slots=True)
class Limits:
    rows: int = 20
    query_chars: int = 160
    long_running_seconds: float = 30.0
    top_statements: int = 10


async def snapshot(conn: AsyncConnection[Any], limits: Limits) -> Snapshot:
    """Read everything ``db_stats`` reports; the caller holds a read-only transaction."""
    params: dict[str, Any] = {
        "rows": limits.rows,
        "chars": limits.query_chars,
        "secs": limits.long_running_seconds,
        "top": limits.top_statements,
    }
    cur = await conn.execute(_SETTINGS)
    row = await cur.fetchone()
    assert row is not None
    snap = Snapshot(row[0], row[1], row[2], row[3], row[5], bool(row[6]))
    version_num = int(row[4])
    for state, count, waiting in await (await conn.execute(_BY_STATE)).fetchall():
        snap.states[state] = snap.states.get(state, 0) + int(count)
        snap.waiting += int(waiting)
    snap.by_database = [
        tuple(r) for r in await (await conn.execute(_BY_DATABASE, params)).fetchall()
    ]
    snap.by_client = [tuple(r) for r in await (await conn.execute(_BY_CLIENT, params)).fetchall()]
    snap.waiters = [Session.of(r) for r in await (await conn.execute(_WAITING, params)).fetchall()]
    blocking = sorted({pid for s in snap.waiters for pid in s.blocked_by})
    if blocking:
        rows = await (await conn.execute(_BLOCKERS, params | {"pids": blocking})).fetchall()
        snap.blockers = [Session.of(r) for r in rows]
    snap.long_running = [
        Session.of(r) for r in await (await conn.execute(_LONG, params)).fetchall()
    ]
    if await (await conn.execute(_HAS_STATEMENTS)).fetchone() is not None:
        await _statements(conn, snap, params, version_num)
    return snap


async def _statements(
    conn: AsyncConnection[Any], snap: Snapshot, params: dict[str, Any], version_num: int
) -> None:
    from psycopg import Error

    columns = (
        {"mean": "mean_exec_time", "max": "max_exec_time"}
        if version_num >= 130000
        else {"mean": "mean_time", "max": "max_time"}
    )
    try:
        async with conn.transaction():  # a savepoint: a failure here spoils nothing else
            cur = await conn.execute(_STATEMENTS.format(**columns), params)
            rows = await cur.fetchall()
    except Error as exc:  # e.g. created but not in shared_preload_libraries
        snap.statements_note = f"pg_stat_statements is installed but unreadable: {exc}".strip()
        return
    snap.statements = [
        Statement(int(r[0]), float(r[1]), float(r[2]), int(r[3]), str(r[4]), scrub(r[5]))
        for r in rows
    ]
