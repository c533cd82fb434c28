"""db_stats against a real PostgreSQL (a dedicated server with 20 slots and
pg_stat_statements preloaded): sessions idle in transaction, a blocking lock
and its waiter, long-running transactions, top statements, and a server with
no slot left, built through the registry as a worker builds its toolset."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from nightshift.agent.tools.protocol import ToolCall, ToolResult, Toolset, ToolStatus
from nightshift.domain.vocabulary import Domain
from nightshift.sources.config import SourceConfig, SourceKind, SourcesError
from nightshift.sources.context import SourceContext
from nightshift.sources.registry import build_toolset
from tests.support import postgres
from tests.support.postgres_load import (
    MONITOR,
    blocked_update,
    fill_every_slot,
    idle_in_transaction,
    small_server,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server() -> Iterator[postgres.PostgresServer]:
    yield from small_server(max_connections=20)


def _toolset(port: int, **settings: Any) -> Toolset:
    source = SourceConfig(
        name="orders-db",
        kind=SourceKind.POSTGRESQL,
        domain=Domain.DATABASE,
        url=f"postgresql://127.0.0.1:{port}/orders",
        credential="orders-monitor",
        timeout_seconds=10,
        settings={"aliases": ["orders-db-primary"], "connect_timeout_seconds": 2, **settings},
    )
    credentials = {(Domain.DATABASE, "orders-monitor"): {"username": MONITOR, "password": "x"}}
    context = SourceContext("inv-db-01", frozenset({"data"}), credentials, declared=(source,))
    return build_toolset([source], context)


async def _stats(toolset: Toolset, database: str = "orders-db") -> ToolResult:
    return await toolset.call(ToolCall("db_stats", {"database": database}))


async def test_sessions_idle_in_transaction_and_a_blocking_lock_are_reported(
    server: postgres.PostgresServer,
) -> None:
    held = idle_in_transaction(server, 6)
    try:
        with blocked_update(server) as (blocker, waiter):
            await asyncio.sleep(0.3)  # past long_running_seconds below
            result = await _stats(_toolset(server.port, long_running_seconds=0.2))
    finally:
        held.release()
    assert result.status is ToolStatus.OK, result.text
    text, data = result.text, result.data
    assert data is not None
    assert "database orders (PostgreSQL 15" in text
    assert f"host=127.0.0.1:{server.port}" in text
    # 6 idle in transaction + the blocker (idle in transaction) + the waiter (active)
    assert data["states"]["idle in transaction"] == 7
    assert data["waiting_on_locks"] == 1
    assert data["max_connections"] == 20
    assert data["superuser_reserved_connections"] == 3
    assert f"connections: {data['current']}/20 (idle in transaction: 7)" in text
    assert "sessions waiting on locks: 1" in text
    assert [w["pid"] for w in data["waiters"]] == [waiter]
    assert data["waiters"][0]["blocked_by"] == [blocker]
    assert data["waiters"][0]["wait_event"].startswith("Lock:")
    assert "blocking sessions (pg_blocking_pids):" in text
    assert f"pid {waiter} (checkout-api) blocked by pid {blocker} (billing-worker, idle in" in text
    assert [b["pid"] for b in data["blockers"]] == [blocker]
    assert data["blockers"][0]["state"] == "idle in transaction"
    assert data["blockers"][0]["application_name"] == "billing-worker"
    apps = {c["application_name"]: c for c in data["by_client"]}
    assert apps["checkout-api"]["count"] == 7 and apps["checkout-api"]["idle_in_transaction"] == 6
    assert "long-running transactions and queries (> 0.2s):" in text
    assert "oldest transaction:" in text
    assert "top statements by mean time (pg_stat_statements):" in text
    assert data["statements"] and all(len(q["query"]) <= 160 for q in data["statements"])
    # the setup's CREATE ROLE ... PASSWORD is a top statement: its literal never shows
    assert "monitor-pass" not in text and "monitor-pass" not in str(data)
    assert not any("pg_blocking_pids" in q["query"] for q in data["statements"])  # not ours


async def test_a_quiet_server_reports_its_slots_without_waiters(
    server: postgres.PostgresServer,
) -> None:
    result = await _stats(_toolset(server.port), "orders-db-primary")
    assert result.status is ToolStatus.OK, result.text
    assert "sessions waiting on locks: 0" in result.text
    assert "connection slots: 20" in result.text
    assert "blocking sessions" not in result.text
    # a healthy server's answer names no exhaustion (the reasoner reads these words)
    assert "max_connections" not in result.text and "remaining connection" not in result.text
    assert result.data is not None and result.data["waiters"] == []


async def test_a_server_with_no_slot_left_is_itself_the_finding(
    server: postgres.PostgresServer,
) -> None:
    held = fill_every_slot(server)
    try:
        result = await _stats(_toolset(server.port))
    finally:
        held.release()
    assert result.status is ToolStatus.OK, result.text
    assert "connections: exhausted" in result.text
    assert "remaining connection slots are reserved" in result.text
    assert result.data is not None and result.data["connections"] == "exhausted"
    assert len(held.connections) == 17  # 20 minus the 3 reserved for superusers


async def test_near_the_limit_the_answer_says_ordinary_roles_are_out_of_slots(
    server: postgres.PostgresServer,
) -> None:
    held = idle_in_transaction(server, 16)  # with this probe: 17 of the 17 open slots
    try:
        result = await _stats(_toolset(server.port))
    finally:
        held.release()
    assert result.status is ToolStatus.OK, result.text
    assert "connections: 16/20 (idle in transaction: 16)" in result.text
    assert "this probe use every slot of max_connections open to ordinary roles (17)" in (
        result.text
    )


async def test_another_database_name_is_not_this_sources_answer(
    server: postgres.PostgresServer,
) -> None:
    result = await _stats(_toolset(server.port), "billing-db")
    assert result.status is ToolStatus.NO_DATA
    assert "no database named 'billing-db'" in result.text


async def test_a_server_that_is_down_is_evidence_of_that(server: postgres.PostgresServer) -> None:
    result = await _stats(_toolset(postgres.free_port()))
    assert result.status is ToolStatus.ERROR
    assert result.text.startswith("source unavailable: postgresql source 'orders-db'")
    assert "x" not in result.text.split("OperationalError")[0][-3:]  # no password echoed


def test_credentials_in_the_url_and_bad_settings_are_refused() -> None:
    bad = SourceConfig(
        name="orders-db",
        kind=SourceKind.POSTGRESQL,
        domain=Domain.DATABASE,
        url="postgresql://app:secret@127.0.0.1:5432/orders",
    )
    with pytest.raises(SourcesError, match="must not carry credentials"):
        build_toolset([bad], SourceContext("inv", frozenset({"data"})))
    with pytest.raises(SourcesError, match="settings: rows"):
        _toolset(5432, rows=0)
