"""Issue 21, Kueue: a dispatched unit may wait suspended in the cluster's queue. The
investigation shows where it waits, and a deadline passed there says it never ran."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from typer.testing import CliRunner

from nightshift.api.app import create_app
from nightshift.cli import investigations as cli_investigations
from nightshift.domain.vocabulary import InvestigationStatus as S
from nightshift.runtime.executors.fake import FakeExecutor
from nightshift.runtime.executors.kubernetes import KubernetesExecutor
from nightshift.runtime.executors.local import LocalExecutor
from nightshift.runtime.executors.protocol import ReportsAdmission
from nightshift.services.concealment import UNCONCEALED
from nightshift.store.tables import InvestigationRow
from tests.support import control_plane
from tests.support.control_plane import World, make_world


@dataclass(frozen=True)
class Queued:
    state: str
    reason: str
    local_queue: str = ""
    position_in_local_queue: int | None = None


class QueuedFake(FakeExecutor):
    """The fake executor with a queue in front of it, as Kueue puts one before Jobs."""

    def __init__(self) -> None:
        super().__init__()
        self.queue: dict[str, Queued] = {}
        self.unreadable: Exception | None = None

    def admission(self, investigation_id: str) -> Queued | None:
        if self.unreadable is not None:
            raise self.unreadable
        return self.queue.get(investigation_id)


@pytest.fixture
def queued_world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    monkeypatch.setattr(control_plane, "FakeExecutor", QueuedFake)
    w = make_world(tmp_path, max_running=2, max_running_per_agent=2)
    yield w
    w.container.db.dispose()


@pytest.fixture
def api(queued_world: World) -> Iterator[TestClient]:
    with TestClient(create_app(queued_world.container, background=False)) as c:  # type: ignore[arg-type]
        yield c


def _dispatched(api: TestClient, world: World) -> str:
    resp = api.post(
        "/v1/investigations",
        json={"agent": "triage", "title": "disk pressure on node-3"},
        headers=world.auth("operator"),
    )
    assert resp.status_code == 201, resp.text
    inv_id = str(resp.json()["id"])
    world.container.dispatcher.dispatch_once()
    assert world.container.investigations.get(inv_id, UNCONCEALED).status == S.DISPATCHED
    return inv_id


def _fake(world: World) -> QueuedFake:
    assert isinstance(world.executor, QueuedFake)
    return world.executor


def _overdue(world: World, inv_id: str) -> None:
    with world.container.db.transaction() as s:
        s.execute(
            update(InvestigationRow)
            .where(InvestigationRow.id == inv_id)
            .values(deadline_at=datetime.now(UTC) - timedelta(minutes=5))
        )


def test_the_kubernetes_executor_reports_admission_and_the_local_one_does_not() -> None:
    assert issubclass(KubernetesExecutor, ReportsAdmission)
    assert not issubclass(LocalExecutor, ReportsAdmission)
    assert not issubclass(FakeExecutor, ReportsAdmission)


def test_a_dispatched_investigation_shows_where_it_waits_in_the_queue(
    api: TestClient, queued_world: World
) -> None:
    inv_id = _dispatched(api, queued_world)
    _fake(queued_world).queue[inv_id] = Queued(
        "waiting", "couldn't assign flavors: insufficient quota", "nightshift", 3
    )
    view = api.get(f"/v1/investigations/{inv_id}", headers=queued_world.auth("viewer")).json()
    assert view["status"] == "dispatched"
    assert view["admission"] == {
        "state": "waiting",
        "reason": "couldn't assign flavors: insufficient quota",
        "queue": "nightshift",
        "position_in_local_queue": 3,
    }


def test_no_admission_once_running_or_when_the_queue_cannot_be_read(
    api: TestClient, queued_world: World
) -> None:
    inv_id = _dispatched(api, queued_world)
    fake = _fake(queued_world)
    fake.queue[inv_id] = Queued("waiting", "no quota", "nightshift", 1)
    fake.unreadable = RuntimeError("the API server is unreachable")
    url, who = f"/v1/investigations/{inv_id}", queued_world.auth("viewer")
    resp = api.get(url, headers=who)
    assert resp.status_code == 200 and resp.json()["admission"] is None
    fake.unreadable = None
    assert api.get(url, headers=who).json()["admission"]["state"] == "waiting"
    queued_world.container.investigations.terminate(inv_id, S.CANCELLED, "test")
    assert api.get(url, headers=who).json()["admission"] is None  # no longer dispatched


def test_a_deadline_passed_in_the_queue_says_it_was_never_admitted(
    api: TestClient, queued_world: World
) -> None:
    # Kueue's manager down: no Workload is ever made, the Job stays suspended.
    inv_id = _dispatched(api, queued_world)
    _fake(queued_world).queue[inv_id] = Queued(
        "not-queued", "no Kueue Workload for the Job yet: waiting for Kueue to pick it up"
    )
    _overdue(queued_world, inv_id)
    assert queued_world.container.reconciler.enforce_deadlines() == 1
    view = queued_world.container.investigations.get(inv_id, UNCONCEALED)
    assert view.status == S.DEADLINE_EXCEEDED
    assert view.reason.startswith(
        "deadline exceeded while waiting for admission in Kueue (never admitted)"
    )
    assert "waiting for Kueue to pick it up" in view.reason
    assert inv_id in _fake(queued_world).stopped


def test_a_deadline_passed_after_admission_keeps_the_plain_reason(
    api: TestClient, queued_world: World
) -> None:
    inv_id = _dispatched(api, queued_world)
    _fake(queued_world).queue[inv_id] = Queued("admitted", "", "nightshift")
    _overdue(queued_world, inv_id)
    queued_world.container.reconciler.enforce_deadlines()
    view = queued_world.container.investigations.get(inv_id, UNCONCEALED)
    assert view.status == S.DEADLINE_EXCEEDED
    assert view.reason == "deadline exceeded (enforced by the reconciler)"


def test_the_cli_prints_the_queue_place(
    api: TestClient, queued_world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    inv_id = _dispatched(api, queued_world)
    _fake(queued_world).queue[inv_id] = Queued("waiting", "no quota", "nightshift", 2)

    class Client:
        def request(self, method: str, path: str, **_: object) -> object:
            resp = api.request(method, path, headers=queued_world.auth("viewer"))
            return resp.json()

    monkeypatch.setattr(cli_investigations, "_api", lambda *_: Client())
    result = CliRunner().invoke(cli_investigations.inv_app, ["show", inv_id])
    assert result.exit_code == 0, result.output
    shown = "admission: waiting in queue nightshift, position 2 (0 = next) - no quota"
    assert shown in result.output
