"""``db_stats`` from PgBouncer's admin console: ``SHOW POOLS``, ``SHOW DATABASES``
and ``SHOW STATS``, the pooler's view of clients waiting for a server connection.

``url: postgresql://pgbouncer.data:6432`` (the admin console is the special
``pgbouncer`` database; a path in the url is ignored). The broker's ``username``
and ``password`` must name a user in PgBouncer's ``stats_users`` (or
``admin_users``). Settings: ``aliases`` (names db_stats may use besides the
source name, the host and the pools' databases), ``username`` (when the broker
stores none), ``connect_timeout_seconds``, ``rows``.

The console speaks only the simple query protocol and has no transactions, so
the connection is autocommit, never prepares, and sends parameterless SHOWs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field

from nightshift.agent.tools.catalog import DB_STATS
from nightshift.agent.tools.protocol import ToolCall, ToolResult, ToolSpec, ToolStatus
from nightshift.governance.destinations import host_of
from nightshift.sources import db_names
from nightshift.sources.config import SourceConfig, SourcesError
from nightshift.sources.context import SourceContext
from nightshift.sources.postgresql import exhausted, parse_settings
from nightshift.sources.psql_table import psql_table

Row = Mapping[str, Any]


class PgBouncerSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    aliases: tuple[str, ...] = ()
    username: str | None = None
    connect_timeout_seconds: int = Field(default=5, ge=1, le=60)
    rows: int = Field(default=50, ge=1, le=500)


def _int(row: Row, key: str) -> int:
    value = row.get(key)
    return int(value) if value is not None and str(value).lstrip("-").isdigit() else 0


def _maxwait_ms(row: Row) -> float:
    return _int(row, "maxwait") * 1000 + _int(row, "maxwait_us") / 1000


class PgBouncerToolset:
    def __init__(
        self, source: SourceConfig, settings: PgBouncerSettings, credential: Mapping[str, str]
    ) -> None:
        parts = urlsplit(source.url)
        if not source.url.startswith("postgresql://") or not parts.hostname:
            raise SourcesError(f"source {source.name!r}: url must be postgresql://host:port")
        if parts.username or parts.password:
            raise SourcesError(
                f"source {source.name!r}: the url must not carry credentials; "
                "the broker's credential source holds username and password"
            )
        self._source = source
        self._settings = settings
        self._host = f"{parts.hostname}:{parts.port or 6432}"
        self._conninfo = f"postgresql://{self._host}/pgbouncer"
        self._credential = dict(credential)
        self._names = db_names.answer_names(parts.hostname, (source.name, *settings.aliases))

    def specs(self) -> Sequence[ToolSpec]:
        return (DB_STATS,)

    async def _show(self) -> tuple[str, list[Row], list[Row], list[Row]]:
        import psycopg
        from psycopg.rows import dict_row

        kwargs: dict[str, Any] = {
            "connect_timeout": self._settings.connect_timeout_seconds,
            "autocommit": True,
            "prepare_threshold": None,
            "row_factory": dict_row,
        }
        user = self._credential.get("username") or self._settings.username
        if user:
            kwargs["user"] = user
        if self._credential.get("password"):
            kwargs["password"] = self._credential["password"]
        conn = await psycopg.AsyncConnection.connect(self._conninfo, **kwargs)
        try:
            limit = self._settings.rows
            version = await (await conn.execute("SHOW VERSION")).fetchone()
            pools = await (await conn.execute("SHOW POOLS")).fetchmany(limit)
            databases = await (await conn.execute("SHOW DATABASES")).fetchmany(limit)
            stats = await (await conn.execute("SHOW STATS")).fetchmany(limit)
        finally:
            await conn.close()
        text = str(next(iter(version.values()))) if version else "PgBouncer"
        return text, list(pools), list(databases), list(stats)

    async def call(self, call: ToolCall) -> ToolResult:
        import psycopg

        if call.name != DB_STATS.name:
            why = f"the pgbouncer source does not answer {call.name}"
            return ToolResult(ToolStatus.NO_DATA, why, error=why)
        wanted = str(call.params.get("database") or "").strip().lower()
        named = db_names.wanted_names(wanted, host_of(wanted) or "")
        try:
            version, pools, databases, stats = await self._show()
        except psycopg.OperationalError as exc:
            if not exhausted(str(exc)) and "no more connections allowed" not in str(exc):
                raise
            text = (
                f"pgbouncer host={self._host}\nconnect: {str(exc).strip()}\n"
                "note: the pooler refused a new client (max_client_conn reached)"
            )
            return ToolResult(ToolStatus.OK, text, {"clients": "exhausted"})
        pools = [p for p in pools if p.get("database") != "pgbouncer"]  # the console itself
        if not named & self._names:
            pools = [p for p in pools if str(p.get("database", "")).lower() in named]
            if not pools:
                known = db_names.known(self._names | {str(d.get("name")) for d in databases})
                why = f"no pool for database {wanted!r} on pgbouncer {self._source.name!r}"
                return ToolResult(ToolStatus.NO_DATA, f"{why} (known: {known})")
        return ToolResult(
            ToolStatus.OK,
            render(version, self._host, pools, databases, stats),
            _data(pools, databases, stats),
        )


def _pool_sizes(databases: list[Row]) -> dict[str, int]:
    return {str(d.get("name")): _int(d, "pool_size") for d in databases}


def render(
    version: str, host: str, pools: list[Row], databases: list[Row], stats: list[Row]
) -> str:
    sizes = _pool_sizes(databases)
    lines = [f"pgbouncer host={host} ({version})", "", "pooler (SHOW POOLS):"]
    rows = []
    for p in pools:
        db = str(p.get("database"))
        rows.append(
            [
                f"{db}/{p.get('user')}",
                str(p.get("pool_mode") or "-"),
                str(sizes.get(db, 0)),
                str(_int(p, "cl_active")),
                str(_int(p, "cl_waiting")),
                str(_int(p, "sv_active")),
                str(_int(p, "sv_idle")),
                str(_int(p, "sv_used")),
                f"{_maxwait_ms(p):.0f}",
            ]
        )
    lines.append(
        psql_table(
            # Spelled out: PgBouncer's "cl_waiting" is what the reasoner reads as a
            # queue, so it is named only on the line of a pool that has one.
            [
                "pool",
                "kind",
                "size",
                "clients active",
                "clients waiting",
                "servers active",
                "servers idle",
                "servers used",
                "maxwait_ms",
            ],
            rows,
        )
    )
    waiting = [p for p in pools if _int(p, "cl_waiting") > 0]
    for p in waiting:
        db = str(p.get("database"))
        lines.append(
            f"cl_waiting={_int(p, 'cl_waiting')}: clients waiting for a server connection in "
            f"{db}/{p.get('user')} (pool size {sizes.get(db, 0)}, sv_active "
            f"{_int(p, 'sv_active')}); longest wait {_maxwait_ms(p):.0f} ms"
        )
    if stats:
        lines += ["", "traffic (SHOW STATS, averages per second):"]
        lines.append(
            psql_table(
                ["database", "xact/s", "query/s", "avg_query_ms", "avg_wait_ms", "total_wait_ms"],
                [
                    [
                        str(s.get("database")),
                        str(_int(s, "avg_xact_count")),
                        str(_int(s, "avg_query_count")),
                        f"{_int(s, 'avg_query_time') / 1000:.1f}",
                        f"{_int(s, 'avg_wait_time') / 1000:.1f}",
                        f"{_int(s, 'total_wait_time') / 1000:.0f}",
                    ]
                    for s in stats
                    if s.get("database") != "pgbouncer"
                ],
            )
        )
    return "\n".join(lines)


def _data(pools: list[Row], databases: list[Row], stats: list[Row]) -> dict[str, Any]:
    sizes = _pool_sizes(databases)
    return {
        "pools": [
            {
                "database": p.get("database"),
                "user": p.get("user"),
                "pool_mode": p.get("pool_mode"),
                "pool_size": sizes.get(str(p.get("database")), 0),
                **{
                    k: _int(p, k)
                    for k in ("cl_active", "cl_waiting", "sv_active", "sv_idle", "sv_used")
                },
                "maxwait_ms": round(_maxwait_ms(p), 3),
            }
            for p in pools
        ],
        "stats": [{k: v for k, v in s.items() if isinstance(v, int | str)} for s in stats],
    }


def build(source: SourceConfig, context: SourceContext) -> PgBouncerToolset:
    settings: PgBouncerSettings = parse_settings(source, PgBouncerSettings)
    return PgBouncerToolset(source, settings, context.credential(source))
