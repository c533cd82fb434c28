"""Real load on a real PostgreSQL for the db_stats tests: sessions left idle in
transaction, a row lock with a waiter behind it, and a server whose connection
slots are all taken. Each helper returns what it holds so the test releases it."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Generator, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field

import psycopg
import pytest

from tests.support import postgres

MONITOR = "nightshift_monitor"
APP = "checkout"


def small_server(max_connections: int = 20) -> Generator[postgres.PostgresServer, None, None]:
    """A dedicated server with few slots and pg_stat_statements preloaded (the
    shared session server has 300 slots, too many to exhaust in a test)."""
    reason = postgres.available()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    server = postgres.start(
        max_connections=max_connections,
        extra_options="-c shared_preload_libraries=pg_stat_statements"
        " -c superuser_reserved_connections=3",
    )
    try:
        with psycopg.connect(server.admin_dsn, autocommit=True) as conn:
            conn.execute(f"CREATE ROLE {MONITOR} LOGIN PASSWORD 'monitor-pass' IN ROLE pg_monitor")
            conn.execute(f"CREATE ROLE {APP} LOGIN")
            conn.execute(f"CREATE DATABASE orders OWNER {APP}")
        with psycopg.connect(_dsn(server, "postgres", "orders"), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION pg_stat_statements")
            conn.execute(f"GRANT ALL ON SCHEMA public TO {APP}")
        with psycopg.connect(_dsn(server, APP, "orders"), autocommit=True) as conn:
            conn.execute("CREATE TABLE orders (id int PRIMARY KEY, status text)")
            conn.execute("INSERT INTO orders SELECT g, 'new' FROM generate_series(1, 100) g")
        yield server
    finally:
        postgres.stop(server)


def _dsn(server: postgres.PostgresServer, user: str, db: str, app: str = "") -> str:
    extra = f"?application_name={app}" if app else ""
    return f"postgresql://{user}@127.0.0.1:{server.port}/{db}{extra}"


@dataclass
class Held:
    connections: list[psycopg.Connection] = field(default_factory=list)
    threads: list[threading.Thread] = field(default_factory=list)

    def release(self) -> None:
        for conn in self.connections:
            with suppress(psycopg.Error):
                conn.cancel()
        for thread in self.threads:
            thread.join(timeout=5)
        for conn in self.connections:
            conn.close()


def idle_in_transaction(server: postgres.PostgresServer, n: int, app: str = "checkout-api") -> Held:
    held = Held()
    for i in range(n):
        conn = psycopg.connect(_dsn(server, APP, "orders", app))
        conn.execute("SELECT status FROM orders WHERE id = %s", (i + 1,))  # opens the transaction
        held.connections.append(conn)
    return held


@contextmanager
def blocked_update(server: postgres.PostgresServer) -> Iterator[tuple[int, int]]:
    """(blocker pid, waiter pid): the blocker holds row 42 FOR UPDATE, idle in
    transaction; the waiter's UPDATE of the same row waits on it."""
    held = Held()
    blocker = psycopg.connect(_dsn(server, APP, "orders", "billing-worker"))
    blocker.execute("SELECT * FROM orders WHERE id = 42 FOR UPDATE")
    waiter = psycopg.connect(_dsn(server, APP, "orders", "checkout-api"), autocommit=True)
    held.connections += [blocker, waiter]
    waiter_pid = waiter.info.backend_pid

    def run() -> None:
        with suppress(psycopg.Error):  # cancelled on release
            waiter.execute("UPDATE orders SET status = 'paid' WHERE id = 42")

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    held.threads.append(thread)
    _wait_for_lock_wait(server, waiter_pid)
    try:
        yield blocker.info.backend_pid, waiter_pid
    finally:
        blocker.rollback()
        held.release()


def _wait_for_lock_wait(server: postgres.PostgresServer, pid: int) -> None:
    with psycopg.connect(server.admin_dsn, autocommit=True) as admin:
        for _ in range(100):
            row = admin.execute(
                "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", (pid,)
            ).fetchone()
            if row and row[0] == "Lock":
                return
            time.sleep(0.05)
    raise AssertionError(f"backend {pid} never waited on the lock")


def fill_every_slot(server: postgres.PostgresServer) -> Held:
    """Connect as an ordinary role until the server refuses: what remains is
    reserved for superusers."""
    held = Held()
    for _ in range(500):
        try:
            held.connections.append(psycopg.connect(_dsn(server, APP, "orders", "leaky-app")))
        except psycopg.OperationalError:
            return held
    raise AssertionError("the server never ran out of connection slots")
