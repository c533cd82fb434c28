"""db_stats against a real PostgreSQL (20 slots, pg_stat_statements preloaded)
and a real PgBouncer in front of it.

``measure()`` (for ``python -m bench.sources``): p50/p95 of one db_stats call on
a quiet server, under load (10 sessions idle in transaction, a lock waiter and
its blocker), on a server with no slot left (the refusal is the answer), and
through PgBouncer's admin console with clients queued.
"""

from __future__ import annotations

import asyncio
from typing import Any

from bench.sources.common import Row, row, timed
from nightshift.agent.tools.protocol import ToolCall, Toolset
from nightshift.domain.vocabulary import Domain
from nightshift.sources.config import SourceConfig, SourceKind
from nightshift.sources.context import SourceContext
from nightshift.sources.registry import build_toolset
from tests.support import pgbouncer, postgres
from tests.support.postgres_load import (
    APP,
    MONITOR,
    blocked_update,
    fill_every_slot,
    idle_in_transaction,
    small_server,
)

SAMPLES = 40
CALL = ToolCall("db_stats", {"database": "orders-db"})


def _toolset(kind: SourceKind, url: str, username: str, password: str) -> Toolset:
    source = SourceConfig(
        name="orders-db",
        kind=kind,
        domain=Domain.DATABASE,
        url=url,
        credential="monitor",
        timeout_seconds=10,
    )
    secret = {"username": username, "password": password}
    context = SourceContext("bench", frozenset({"*"}), {(Domain.DATABASE, "monitor"): secret})
    return build_toolset([source], context)


async def _measure(port: int, bouncer: pgbouncer.PgBouncer, server: Any) -> list[Row]:
    url = f"postgresql://127.0.0.1:{port}/orders"
    pg = _toolset(SourceKind.POSTGRESQL, url, MONITOR, "trust-auth-ignores-it")

    async def call() -> object:
        result = await pg.call(CALL)
        assert result.status.value == "ok", result.text
        return result

    rows = [row("postgresql", "db_stats", "quiet server", await timed(call, SAMPLES))]
    held = idle_in_transaction(server, 10)
    try:
        with blocked_update(server):
            rows.append(
                row(
                    "postgresql",
                    "db_stats",
                    "10 idle in tx + lock waiter",
                    await timed(call, SAMPLES),
                )
            )
    finally:
        held.release()
    full = fill_every_slot(server)
    try:
        rows.append(
            row(
                "postgresql",
                "db_stats",
                "no slot left (refused)",
                await timed(call, SAMPLES),
                "the refusal is the finding",
            )
        )
    finally:
        full.release()
    bouncer_tools = _toolset(
        SourceKind.PGBOUNCER, bouncer.url, pgbouncer.STATS_USER, pgbouncer.STATS_PASSWORD
    )

    async def bounce() -> object:
        result = await bouncer_tools.call(CALL)
        assert result.status.value == "ok", result.text
        return result

    rows.append(
        row("pgbouncer", "db_stats", "SHOW POOLS/DATABASES/STATS", await timed(bounce, SAMPLES))
    )
    return rows


def measure() -> list[Row]:
    missing = postgres.available() or pgbouncer.available()
    if missing:
        raise RuntimeError(missing)
    servers = small_server(max_connections=20)
    server = next(servers)
    bouncer = pgbouncer.start(server.port, "orders", APP, pool_size=2)
    try:
        return asyncio.run(_measure(server.port, bouncer, server))
    finally:
        pgbouncer.stop(bouncer)
        servers.close()


if __name__ == "__main__":
    for r in measure():
        print(r)
