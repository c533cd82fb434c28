"""The offline reasoner reads a real server's db_stats answer the way it reads
the simulated world's: exhaustion, queues and lock waits become findings, and
a healthy server's answer raises none of them."""

from __future__ import annotations

from nightshift.agent.reasoners.offline.analyzers import analyze
from nightshift.agent.reasoners.offline.topology import Topology
from nightshift.agent.tools.protocol import ToolCall, ToolResult, ToolStatus
from nightshift.sources.pgbouncer import render as render_pools
from nightshift.sources.postgresql_queries import Session, Snapshot
from nightshift.sources.postgresql_render import render, render_refused

CALL = ToolCall("db_stats", {"database": "orders-db"})
ALARMS = {"too-many-conns", "pool-exhausted", "db-locks"}


def _signals(text: str) -> set[str]:
    out = analyze(CALL, ToolResult(ToolStatus.OK, text), Topology())
    assert all(f.subject.name == "orders-db" for f in out.findings)
    return {f.signal for f in out.findings}


def _snapshot(**kw: object) -> Snapshot:
    snap = Snapshot(100, 3, 0, "15.6", "orders", True, statements=[])
    for key, value in kw.items():
        setattr(snap, key, value)
    return snap


def _session(pid: int, app: str, state: str, blocked_by: tuple[int, ...] = ()) -> Session:
    return Session(
        pid,
        "app",
        app,
        "orders",
        state,
        "Lock" if blocked_by else "Client",
        "transactionid" if blocked_by else "ClientRead",
        42.0,
        40.0,
        "UPDATE orders SET status = $1 WHERE id = $2",
        blocked_by,
    )


def test_a_healthy_server_raises_no_alarm() -> None:
    text = render(_snapshot(states={"active": 3, "idle": 20}), "db:5432", 160, 30)
    assert not _signals(text) & ALARMS


def test_slots_used_up_read_as_too_many_connections() -> None:
    full = render(_snapshot(states={"idle in transaction": 96}), "db:5432", 160, 30)
    assert "too-many-conns" in _signals(full)
    refused = render_refused(
        "orders", "db:5432", "remaining connection slots are reserved for superusers", ""
    )
    assert "too-many-conns" in _signals(refused)


def test_a_lock_waiter_reads_as_a_lock_wait_on_its_blocker() -> None:
    waiter = _session(11, "checkout-api", "active", (10,))
    blocker = _session(10, "billing-worker", "idle in transaction")
    text = render(
        _snapshot(
            states={"active": 0, "idle in transaction": 1},
            waiting=1,
            waiters=[waiter],
            blockers=[blocker],
        ),
        "db:5432",
        160,
        30,
    )
    assert "db-locks" in _signals(text)
    assert "pid 11 (checkout-api) blocked by pid 10 (billing-worker, idle in transaction" in text


def _pool(waiting: int) -> dict[str, object]:
    return {
        "database": "orders",
        "user": "app",
        "pool_mode": "transaction",
        "cl_active": 20,
        "cl_waiting": waiting,
        "sv_active": 20,
        "sv_idle": 0,
        "sv_used": 0,
        "maxwait": 2,
        "maxwait_us": 500_000,
    }


def test_a_pgbouncer_queue_reads_as_pool_exhaustion_and_an_idle_pool_does_not() -> None:
    sizes = [{"name": "orders", "pool_size": 20}]
    queued = render_pools("PgBouncer 1.18.0", "pgb:6432", [_pool(35)], sizes, [])
    assert "pool-exhausted" in _signals(queued)
    assert "cl_waiting=35: clients waiting for a server connection in orders/app" in queued
    calm = render_pools("PgBouncer 1.18.0", "pgb:6432", [_pool(0)], sizes, [])
    assert not _signals(calm) & ALARMS
