"""``db_stats`` from a real PostgreSQL server (psycopg 3), read-only.

A source is one server: ``url: postgresql://host:5432/dbname`` (no credentials
in it: the broker hands out ``username`` and ``password``, e.g. Vault's dynamic
database credentials). Settings (all optional)::

    settings:
      aliases: [orders-db, orders]       # names db_stats(database=...) may use
      username: nightshift_monitor       # when the broker stores no username
      sslmode: require
      connect_timeout_seconds: 5
      statement_timeout_ms: 5000
      rows: 20                           # rows per table in the answer
      query_chars: 160                   # query text is cut to this
      long_running_seconds: 30
      top_statements: 10

Every call opens one connection, reads in a ``READ ONLY`` transaction with a
statement and lock timeout, and closes it. A server that refuses the
connection for want of slots has answered the question: that is reported as
the finding (connections exhausted), not as an unavailable source.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from nightshift.agent.tools.catalog import DB_STATS
from nightshift.agent.tools.protocol import ToolCall, ToolResult, ToolSpec, ToolStatus
from nightshift.governance.destinations import host_of
from nightshift.sources import db_names
from nightshift.sources.config import SourceConfig, SourcesError
from nightshift.sources.context import SourceContext
from nightshift.sources.postgresql_queries import Limits, snapshot
from nightshift.sources.postgresql_render import render, render_refused

# What PostgreSQL says when every slot is taken (server-wide, reserved, per role/db).
EXHAUSTED = (
    "too many clients already",
    "remaining connection slots are reserved",
    "too many connections for role",
    "too many connections for database",
)


class PostgresSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    aliases: tuple[str, ...] = ()
    username: str | None = None
    sslmode: str | None = None
    connect_timeout_seconds: int = Field(default=5, ge=1, le=60)
    statement_timeout_ms: int = Field(default=5000, ge=100, le=60_000)
    rows: int = Field(default=20, ge=1, le=200)
    query_chars: int = Field(default=160, ge=20, le=2000)
    long_running_seconds: float = Field(default=30.0, gt=0)
    top_statements: int = Field(default=10, ge=0, le=100)


def parse_settings(source: SourceConfig, model: type[BaseModel]) -> Any:
    try:
        return model.model_validate(source.settings)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise SourcesError(
            f"{source.kind.value} source {source.name!r}: settings: {problems}"
        ) from None


def server_url(source: SourceConfig) -> tuple[str, str, str]:
    """(conninfo without credentials, host:port, dbname); refuses credentials in the url."""
    if not source.url.startswith("postgresql://"):
        raise SourcesError(f"source {source.name!r}: url must be postgresql://host:port/dbname")
    parts = urlsplit(source.url)
    if parts.username or parts.password:
        raise SourcesError(
            f"source {source.name!r}: the url must not carry credentials; "
            "the broker's credential source holds username and password"
        )
    if not parts.hostname:
        raise SourcesError(f"source {source.name!r}: url names no host")
    dbname = parts.path.lstrip("/") or "postgres"
    port = parts.port or 5432
    clean = urlunsplit(("postgresql", f"{parts.hostname}:{port}", f"/{dbname}", parts.query, ""))
    return clean, f"{parts.hostname}:{port}", dbname


def exhausted(message: str) -> bool:
    low = message.lower()
    return any(marker in low for marker in EXHAUSTED)


class PostgresToolset:
    def __init__(
        self, source: SourceConfig, settings: PostgresSettings, credential: dict[str, str]
    ) -> None:
        self._source = source
        self._settings = settings
        self._conninfo, self._host, self._dbname = server_url(source)
        self._credential = credential
        host = self._host.rsplit(":", 1)[0]
        self._names = db_names.answer_names(host, (source.name, self._dbname, *settings.aliases))
        self._limits = Limits(
            settings.rows,
            settings.query_chars,
            settings.long_running_seconds,
            settings.top_statements,
        )

    def specs(self) -> Sequence[ToolSpec]:
        return (DB_STATS,)

    def answers_for(self, database: str) -> bool:
        wanted = database.strip().lower()
        return bool(db_names.wanted_names(wanted, host_of(wanted) or "") & self._names)

    def _connect_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "connect_timeout": self._settings.connect_timeout_seconds,
            "application_name": "nightshift-db-stats",
            "autocommit": True,
        }
        user = self._credential.get("username") or self._settings.username
        if user:
            kwargs["user"] = user
        if self._credential.get("password"):
            kwargs["password"] = self._credential["password"]
        if self._settings.sslmode:
            kwargs["sslmode"] = self._settings.sslmode
        return kwargs

    async def call(self, call: ToolCall) -> ToolResult:
        if call.name != DB_STATS.name:
            why = f"the postgresql source does not answer {call.name}"
            return ToolResult(ToolStatus.NO_DATA, why, error=why)
        database = str(call.params.get("database") or "")
        if not self.answers_for(database):
            why = (
                f"no database named {database!r} on source {self._source.name!r} "
                f"(known: {db_names.known(self._names)})"
            )
            return ToolResult(ToolStatus.NO_DATA, why)
        return await self._stats()

    async def _stats(self) -> ToolResult:
        import psycopg

        try:
            conn = await psycopg.AsyncConnection.connect(self._conninfo, **self._connect_kwargs())
        except psycopg.OperationalError as exc:
            message = str(exc).strip().splitlines()[-1] if str(exc).strip() else repr(exc)
            if not exhausted(str(exc)):
                raise
            data = {"connections": "exhausted", "error": message, "host": self._host}
            return ToolResult(
                ToolStatus.OK, render_refused(self._dbname, self._host, message, ""), data
            )
        try:
            await conn.set_read_only(True)  # BEGIN READ ONLY: this probe can change nothing
            async with conn.transaction():
                timeout = self._settings.statement_timeout_ms
                await conn.execute(f"SET LOCAL statement_timeout = {int(timeout)}")
                await conn.execute(f"SET LOCAL lock_timeout = {int(min(timeout, 1000))}")
                snap = await snapshot(conn, self._limits)
        finally:
            await conn.close()
        text = render(snap, self._host, self._limits.query_chars, self._limits.long_running_seconds)
        return ToolResult(ToolStatus.OK, text, _data(snap, self._host))


def _data(snap: Any, host: str) -> dict[str, Any]:
    return {
        "host": host,
        "database": snap.database,
        "version": snap.version,
        "max_connections": snap.max_connections,
        "superuser_reserved_connections": snap.superuser_reserved,
        "reserved_connections": snap.reserved,
        "current": snap.total,
        "states": dict(snap.states),
        "waiting_on_locks": snap.waiting,
        "by_database": [
            {"datname": d, "count": c, "idle_in_transaction": i, "waiting": w}
            for d, c, i, w in snap.by_database
        ],
        "by_client": [
            {"application_name": a, "usename": u, "count": c, "active": x, "idle_in_transaction": i}
            for a, u, c, x, i in snap.by_client
        ],
        "waiters": [s.to_dict() for s in snap.waiters],
        "blockers": [s.to_dict() for s in snap.blockers],
        "long_running": [s.to_dict() for s in snap.long_running],
        "statements": None
        if snap.statements is None
        else [
            {
                "calls": q.calls,
                "mean_ms": q.mean_ms,
                "max_ms": q.max_ms,
                "rows": q.rows,
                "query": q.query,
            }
            for q in snap.statements
        ],
    }


def build(source: SourceConfig, context: SourceContext) -> PostgresToolset:
    settings: PostgresSettings = parse_settings(source, PostgresSettings)
    return PostgresToolset(source, settings, dict(context.credential(source)))
