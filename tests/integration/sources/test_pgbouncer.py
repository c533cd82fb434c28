"""db_stats against a real PgBouncer (session pooling, pool of 2) in front of a
real PostgreSQL: clients queue for a server connection and the pooler's
admin console shows it, read through the registry as a worker reads it."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator

import pytest

from nightshift.agent.tools.protocol import ToolCall, ToolResult, Toolset, ToolStatus
from nightshift.domain.vocabulary import Domain
from nightshift.sources.config import SourceConfig, SourceKind
from nightshift.sources.context import SourceContext
from nightshift.sources.registry import build_toolset
from tests.support import pgbouncer, postgres
from tests.support.postgres_load import APP, small_server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server() -> Iterator[postgres.PostgresServer]:
    yield from small_server(max_connections=30)


@pytest.fixture(scope="module")
def bouncer(server: postgres.PostgresServer) -> Iterator[pgbouncer.PgBouncer]:
    reason = pgbouncer.available()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    running = pgbouncer.start(server.port, "orders", APP, pool_size=2)
    yield running
    pgbouncer.stop(running)


def _toolset(bouncer: pgbouncer.PgBouncer, password: str = pgbouncer.STATS_PASSWORD) -> Toolset:
    source = SourceConfig(
        name="orders-pgbouncer",
        kind=SourceKind.PGBOUNCER,
        domain=Domain.DATABASE,
        url=bouncer.url,
        credential="pgbouncer-stats",
        settings={"aliases": ["orders-db"], "connect_timeout_seconds": 2},
    )
    secret = {"username": pgbouncer.STATS_USER, "password": password}
    context = SourceContext(
        "inv-pgb-01", frozenset({"data"}), {(Domain.DATABASE, "pgbouncer-stats"): secret}
    )
    return build_toolset([source], context)


async def _stats(toolset: Toolset, database: str = "orders-db") -> ToolResult:
    return await toolset.call(ToolCall("db_stats", {"database": database}))


async def test_clients_waiting_for_a_server_connection_are_shown(
    bouncer: pgbouncer.PgBouncer,
) -> None:
    toolset = _toolset(bouncer)
    clients = pgbouncer.Clients(bouncer)
    try:
        clients.hold(2)
        clients.want(3)
        result = await _stats(toolset)
        deadline = time.monotonic() + 10
        while "cl_waiting=3: clients waiting for a server connection" not in result.text:
            assert time.monotonic() < deadline, result.text
            await asyncio.sleep(0.1)
            result = await _stats(toolset)
    finally:
        clients.release()
    assert result.status is ToolStatus.OK
    assert result.text.startswith(f"pgbouncer host=127.0.0.1:{bouncer.port} (PgBouncer 1.")
    assert "pooler (SHOW POOLS):" in result.text
    assert "in orders/checkout (pool size 2, sv_active 2)" in result.text
    assert result.data is not None
    pool = next(p for p in result.data["pools"] if p["database"] == "orders")
    assert (pool["cl_active"], pool["cl_waiting"], pool["sv_active"]) == (2, 3, 2)
    assert pool["pool_size"] == 2 and pool["pool_mode"] == "session"
    assert "traffic (SHOW STATS, averages per second):" in result.text


async def test_a_pool_database_name_is_answered_and_others_are_not(
    bouncer: pgbouncer.PgBouncer,
) -> None:
    toolset = _toolset(bouncer)
    by_pool = await _stats(toolset, "orders")
    assert by_pool.status is ToolStatus.OK and "orders/checkout" in by_pool.text
    other = await _stats(toolset, "billing-db")
    assert other.status is ToolStatus.NO_DATA
    assert "no pool for database 'billing-db'" in other.text


async def test_a_wrong_password_is_a_source_error_that_names_no_secret(
    bouncer: pgbouncer.PgBouncer,
) -> None:
    result = await _stats(_toolset(bouncer, password="wrong-password-123"))
    assert result.status is ToolStatus.ERROR
    assert result.text.startswith("source unavailable: pgbouncer source 'orders-pgbouncer'")
    assert "wrong-password-123" not in result.text
