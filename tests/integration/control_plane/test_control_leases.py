"""The leader lease and heartbeats on a real PostgreSQL (services/control_leases.py):
one leader at a time, a lapsed lease moves with a higher epoch, a deposed leader's
fenced writes are refused, and a leader whose connection is cut stops leading
before anyone else starts."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

import psycopg
import pytest

from nightshift.services.control_leases import ControlLeases, LeaseLost
from nightshift.store import migrate
from nightshift.store.database import Database
from tests.support.postgres import PostgresServer

TTL = 2.0


@pytest.fixture
def url(pg_server: PostgresServer) -> str:
    url = pg_server.create_database(f"leases_{time.monotonic_ns()}")
    db = Database(url)
    migrate.upgrade(db.engine)
    db.dispose()
    return url


@pytest.fixture
def databases() -> Iterator[list[Database]]:
    opened: list[Database] = []
    yield opened
    for db in opened:
        db.dispose()


def _open(databases: list[Database], url: str) -> Database:
    db = Database(url)
    databases.append(db)
    return db


def test_one_leader_at_a_time_and_a_lapsed_lease_moves_with_a_higher_epoch(
    url: str, databases: list[Database]
) -> None:
    a = ControlLeases(_open(databases, url), "a", TTL)
    b = ControlLeases(_open(databases, url), "b", TTL)
    assert a.tick() is True
    assert b.tick() is False
    assert a.tick() is True  # renewal keeps the epoch
    first = a.epoch
    assert first is not None
    with databases[0].read() as s:
        assert a.live_replicas(s) == {"a", "b"}

    started = time.monotonic()  # a stops renewing (paused, dead)
    while not b.tick():
        assert time.monotonic() - started < TTL + 1.5, "the lease never moved"
        time.sleep(0.1)
    assert not a.is_leader()  # it had stopped trusting itself before b took over
    assert b.epoch == first + 1
    assert a.tick() is False  # b's lease is live: a follows now


def test_a_deposed_leader_that_still_believes_it_leads_is_fenced(
    url: str, databases: list[Database]
) -> None:
    frozen = [0.0]  # a's own clock stands still: a process paused mid-step
    a = ControlLeases(_open(databases, url), "a", TTL, clock=lambda: frozen[0])
    b = ControlLeases(_open(databases, url), "b", TTL)
    assert a.tick()
    with databases[0].transaction() as s:
        a.fence(s)  # the holder passes its fence
    deadline = time.monotonic() + TTL + 1.5
    while not b.tick():
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert a.is_leader()  # by its frozen clock it still leads...
    with pytest.raises(LeaseLost), databases[0].transaction() as s:
        a.fence(s)  # ...but the database says otherwise
    with databases[1].transaction() as s:
        b.fence(s)


def test_the_leaders_connection_cut_moves_the_lease_within_its_ttl_never_to_two(
    pg_server: PostgresServer, url: str, databases: list[Database]
) -> None:
    with psycopg.connect(pg_server.admin_dsn, autocommit=True) as admin:
        admin.execute("DROP ROLE IF EXISTS replica_a")
        admin.execute("CREATE ROLE replica_a LOGIN SUPERUSER")
        a_url = url.replace("postgres@", "replica_a@", 1)
        a = ControlLeases(_open(databases, a_url), "a", TTL)
        b = ControlLeases(_open(databases, url), "b", TTL)
        assert a.tick() and not b.tick()
        # Cut a off: its connections are killed and it may not reconnect.
        admin.execute("ALTER ROLE replica_a NOLOGIN")
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'replica_a'"
        )
        cut = time.monotonic()
        a_stopped = b_started = None
        while b_started is None and time.monotonic() - cut < TTL * 3:
            with contextlib.suppress(Exception):  # cut off, as intended
                a.tick()
            if a_stopped is None and not a.is_leader():
                a_stopped = time.monotonic() - cut
            if b.tick():
                b_started = time.monotonic() - cut
            assert not (a.is_leader() and b.is_leader()), "two leaders at once"
            time.sleep(0.05)
        admin.execute("ALTER ROLE replica_a LOGIN")
    assert b_started is not None and b_started <= TTL + 1.0, b_started
    assert a_stopped is not None and a_stopped < b_started
