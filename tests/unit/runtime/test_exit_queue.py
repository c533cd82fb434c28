"""A worker exit the database refuses is kept and retried, with a bounded
backoff, until it is stored; an investigation whose unit ended with no exit on
record is found by the reconciler and failed with that reason."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from nightshift.api.app import create_app
from nightshift.domain.vocabulary import InvestigationStatus as S
from nightshift.runtime.executors.protocol import WorkerExit
from nightshift.runtime.exit_queue import ExitQueue
from nightshift.services.errors import NotFound
from tests.support.control_plane import World, make_world


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Storage:
    """Refuses writes while ``down``; records what it stored."""

    def __init__(self) -> None:
        self.down = True
        self.stored: list[WorkerExit] = []
        self.attempts = 0

    def __call__(self, exit_: WorkerExit) -> None:
        self.attempts += 1
        if self.down:
            raise OSError("attempt to write a readonly database")
        self.stored.append(exit_)


EXIT = WorkerExit("inv-1", S.FAILED, "worker killed by signal SIGKILL", {"cpu_seconds": 0.2})


def test_a_refused_exit_is_retried_with_backoff_until_storage_recovers() -> None:
    clock, storage = Clock(), Storage()
    queue = ExitQueue(storage, first_delay=1.0, max_delay=8.0, clock=clock)
    assert queue.submit(EXIT) is False
    assert queue.pending() == {"inv-1"}
    assert queue.retry_due() == 0 and storage.attempts == 1  # not due yet
    gaps = []
    for _ in range(6):  # storage stays down: each retry waits longer, up to the bound
        before = storage.attempts
        while storage.attempts == before:
            clock.now += 0.5
            queue.retry_due()
        gaps.append(clock.now)
    waits = [b - a for a, b in itertools.pairwise(gaps)]
    assert waits == [2.0, 4.0, 8.0, 8.0, 8.0]
    assert queue.pending() == {"inv-1"}  # still kept: nothing is dropped
    storage.down = False
    clock.now += 8.0
    assert queue.retry_due() == 1
    assert storage.stored == [EXIT]
    assert queue.pending() == frozenset()


def test_an_exit_refused_for_good_is_not_retried_forever() -> None:
    def gone(exit_: WorkerExit) -> None:
        raise NotFound(f"no investigation {exit_.investigation_id!r}")

    queue = ExitQueue(gone)
    assert queue.submit(EXIT) is True
    assert queue.pending() == frozenset()


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = make_world(tmp_path)
    yield w
    w.container.db.dispose()


def test_a_unit_that_ended_unrecorded_is_failed_after_two_passes(world: World) -> None:
    with TestClient(create_app(world.container, background=False)) as client:  # type: ignore[arg-type]
        resp = client.post(
            "/v1/investigations",
            json={"agent": "triage", "title": "payments 5xx"},
            headers=world.auth("operator"),
        )
        inv_id = resp.json()["id"]
        world.container.dispatcher.dispatch_once()
        reconciler = world.container.reconciler
        assert reconciler.find_unrecorded_ends() == 0  # the unit runs: nothing to do
        world.executor.live.discard(inv_id)  # its process ended; no exit was reported
        assert reconciler.find_unrecorded_ends() == 0  # once could be a race: wait a pass
        assert reconciler.find_unrecorded_ends() == 1
        got = client.get(f"/v1/investigations/{inv_id}", headers=world.auth("viewer")).json()
        assert got["status"] == "failed"
        assert got["reason"] == "its worker process ended and its exit was never recorded"


def test_a_unit_whose_exit_waits_for_a_retry_is_left_to_the_retry(world: World) -> None:
    with TestClient(create_app(world.container, background=False)) as client:  # type: ignore[arg-type]
        resp = client.post(
            "/v1/investigations",
            json={"agent": "triage", "title": "payments 5xx"},
            headers=world.auth("operator"),
        )
        inv_id = resp.json()["id"]
        world.container.dispatcher.dispatch_once()
        reconciler = world.container.reconciler
        reconciler.exits = ExitQueue(Storage(), clock=Clock())  # storage refuses the write
        world.executor.live.discard(inv_id)
        reconciler.exits.submit(WorkerExit(inv_id, S.FAILED, "worker killed by signal SIGKILL"))
        assert reconciler.find_unrecorded_ends() == 0
        assert reconciler.find_unrecorded_ends() == 0  # its own exit will be stored, not ours
        got = client.get(f"/v1/investigations/{inv_id}", headers=world.auth("viewer")).json()
        assert got["status"] == "dispatched"
