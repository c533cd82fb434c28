"""Which replica owns an investigation's unit, and what each replica may do with
another's (docs/control-plane.md, "Several replicas"). SQLite here; the same
rules on PostgreSQL with real processes are in
tests/integration/control_plane/test_replicas.py."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from nightshift.api.app import create_app
from nightshift.domain.vocabulary import InvestigationStatus as S
from nightshift.runtime.replicas import ReplicaWatch
from nightshift.services.control_leases import LEADER, ControlLeases
from nightshift.services.replica_units import ReplicaUnits
from nightshift.store.tables import ControlLeaseRow, InvestigationRow
from tests.support.control_plane import World, make_world


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = make_world(tmp_path, replica_id="alpha", max_running=4, max_running_per_agent=4)
    yield w
    w.container.db.dispose()


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    with TestClient(create_app(world.container, background=False)) as c:  # type: ignore[arg-type]
        yield c


def _dispatched(world: World, client: TestClient, n: int = 1) -> list[str]:
    ids = [
        client.post(
            "/v1/investigations",
            json={"agent": "triage", "title": f"payments 5xx #{i}"},
            headers=world.auth("operator"),
        ).json()["id"]
        for i in range(n)
    ]
    assert world.container.dispatcher.dispatch_once() == n
    return ids


def _set(world: World, inv_id: str, **values: object) -> None:
    with world.container.db.transaction() as s:
        row = s.get(InvestigationRow, inv_id)
        assert row is not None
        for key, value in values.items():
            setattr(row, key, value)


def _row(world: World, inv_id: str) -> InvestigationRow:
    with world.container.db.read() as s:
        row = s.get(InvestigationRow, inv_id)
        assert row is not None
        return row


def test_the_dispatching_replica_is_recorded_on_the_investigation(
    world: World, client: TestClient
) -> None:
    (inv_id,) = _dispatched(world, client)
    assert _row(world, inv_id).replica == "alpha"


def test_a_units_late_exit_does_not_end_an_attempt_another_replica_now_owns(
    world: World, client: TestClient
) -> None:
    (inv_id,) = _dispatched(world, client)
    _set(world, inv_id, replica="beta")  # re-queued by a recovery, then claimed by beta
    world.executor.exit(inv_id, S.FAILED, "worker killed by signal SIGKILL")
    assert _row(world, inv_id).status == S.DISPATCHED.value


def test_another_replicas_units_are_never_taken_for_unrecorded_ends(
    world: World, client: TestClient
) -> None:
    (inv_id,) = _dispatched(world, client)
    _set(world, inv_id, replica="beta")
    world.executor.live.discard(inv_id)  # this executor does not run it: beta does
    reconciler = world.container.reconciler
    assert reconciler.find_unrecorded_ends() == 0
    assert reconciler.find_unrecorded_ends() == 0
    assert _row(world, inv_id).status == S.DISPATCHED.value


def test_an_end_recorded_by_another_replica_stops_this_replicas_unit(
    world: World, client: TestClient
) -> None:
    ours, other = _dispatched(world, client, 2)
    # Another replica's cancel writes the end; no listener of this process hears it.
    for inv_id in (ours, other):
        _set(world, inv_id, status=S.CANCELLED.value, reason="cancelled by lead on beta",
             finished_at=datetime.now(UTC))  # fmt: skip
    _set(world, other, replica="beta")
    assert world.container.replicas.stop_ended_elsewhere() == 1
    assert world.executor.stopped == {ours: "cancelled by lead on beta"}
    assert world.container.replicas.stop_ended_elsewhere() == 0  # once is enough


def test_the_leader_recovers_the_work_of_a_replica_without_a_heartbeat(
    world: World, client: TestClient
) -> None:
    running, dispatched, alive = _dispatched(world, client, 3)
    _set(world, running, status=S.RUNNING.value, replica="ghost")
    _set(world, dispatched, replica="ghost")
    assert world.container.leases.is_leader()
    assert world.container.replicas.recover_orphans() == {"requeued": 1, "failed": 1}
    lost = _row(world, running)
    assert lost.status == S.FAILED.value
    assert lost.reason.startswith("lost worker: control-plane replica ghost stopped heartbeating")
    again = _row(world, dispatched)
    assert again.status == S.QUEUED.value and again.replica is None and again.worker_ref is None
    assert _row(world, alive).status == S.DISPATCHED.value  # alpha's own: left alone
    assert set(world.executor.orphans_killed) == {f"fake:{running}", f"fake:{dispatched}"}


def test_a_follower_recovers_nothing(world: World, client: TestClient) -> None:
    (inv_id,) = _dispatched(world, client)
    _set(world, inv_id, replica="ghost")
    c = world.container
    beta = ReplicaUnits(c.db, c.investigations, ControlLeases(c.db, "beta", 15))
    follower = ReplicaWatch(beta, c.investigations, c.executor)
    assert follower.recover_orphans() == {"requeued": 0, "failed": 0}  # beta never led
    assert _row(world, inv_id).status == S.DISPATCHED.value


def test_sqlite_is_single_replica_so_its_process_always_takes_the_lease(
    world: World, client: TestClient
) -> None:
    leases = world.container.leases
    before = leases.epoch
    assert before is not None
    with world.container.db.transaction() as s:
        row = s.get(ControlLeaseRow, LEADER)
        assert row is not None
        row.holder, row.expires_at = "a-previous-life", datetime.now(UTC) + timedelta(hours=1)
    assert leases.tick() is True
    assert leases.epoch == before + 1


def test_the_oldest_live_start_is_when_the_longest_running_live_replica_began(
    world: World,
) -> None:
    # Whatever was claimed before it, no live replica can be running: a restart under
    # the same id begins a new life, and a lapsed heartbeat is nobody's any more.
    db = world.container.db
    first = ControlLeases(db, "alpha", ttl_seconds=30)
    first.tick()
    began = first.oldest_live_start()
    assert began is not None
    restarted = ControlLeases(db, "alpha", ttl_seconds=30)
    restarted.tick()
    started_again = restarted.oldest_live_start()
    assert started_again is not None and started_again > began
    with db.transaction() as s:  # a replica that started long ago and died
        s.add(ControlLeaseRow(name="replica:beta", holder="beta", epoch=1,
                              acquired_at=began - timedelta(hours=1), renewed_at=began,
                              expires_at=datetime.now(UTC) - timedelta(seconds=1)))  # fmt: skip
    assert restarted.oldest_live_start() == started_again
