"""Issue 21, Kueue, end to end in the product: what the real Kueue says about a queued
Job reaches the investigation's API view, and with Kueue's manager down a deadline
passed in the queue ends the investigation saying it was never admitted."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from nightshift.api.app import create_app
from nightshift.domain.vocabulary import InvestigationStatus as S
from nightshift.runtime.executors.fake import FakeExecutor
from nightshift.runtime.executors.kubernetes import KubernetesExecutor
from nightshift.runtime.executors.kubernetes_kueue import Admission, QueueState
from nightshift.services.concealment import UNCONCEALED
from nightshift.store.tables import InvestigationRow
from tests.integration.k8s.conftest import Exits
from tests.integration.k8s.waiting import eventually
from tests.integration.kueue.manager import KueueManager
from tests.integration.kueue.queues import Start, launch, make_queue, wait_state
from tests.support import control_plane
from tests.support.control_plane import World, make_world

pytestmark = pytest.mark.slow


class RelayToKueue(FakeExecutor):
    """The control plane's executor for a test world whose units are real Jobs queued
    in the real Kueue: its admission report is the Kubernetes executor's own."""

    real: KubernetesExecutor | None = None
    jobs: dict[str, str] = {}

    def admission(self, investigation_id: str) -> Admission | None:
        assert self.real is not None
        return self.real.admission(self.jobs[investigation_id])


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    monkeypatch.setattr(control_plane, "FakeExecutor", RelayToKueue)
    w = make_world(tmp_path)
    yield w
    w.container.db.dispose()


def _view(api: TestClient, world: World, inv_id: str) -> dict[str, Any]:
    resp = api.get(f"/v1/investigations/{inv_id}", headers=world.auth("viewer"))
    assert resp.status_code == 200, resp.text
    return dict(resp.json())


def test_kueue_s_waiting_state_reaches_the_view_and_a_deadline_passed_waiting_says_so(
    kueue: KueueManager, executor_for: Start, exits: Exits, world: World
) -> None:
    queue = make_queue(kueue.cp.admin(), pods=1)
    ex = executor_for(queue)
    holder, queued = launch(), launch()
    for run in (holder, queued):
        ex.start(run)
    wait_state(ex, holder.investigation_id, QueueState.ADMITTED)
    wait_state(ex, queued.investigation_id, QueueState.WAITING)
    with TestClient(create_app(world.container, background=False)) as api:  # type: ignore[arg-type]
        resp = api.post(
            "/v1/investigations",
            json={"agent": "triage", "title": "disk pressure on node-3"},
            headers=world.auth("operator"),
        )
        assert resp.status_code == 201, resp.text
        inv_id = str(resp.json()["id"])
        world.container.dispatcher.dispatch_once()
        relay = world.executor
        assert isinstance(relay, RelayToKueue)
        relay.real, relay.jobs = ex, {inv_id: queued.investigation_id}

        def waiting_first() -> bool:
            adm = _view(api, world, inv_id)["admission"]
            return adm is not None and adm["position_in_local_queue"] == 0

        eventually(waiting_first, 30)
        shown = _view(api, world, inv_id)
        assert shown["status"] == "dispatched"
        assert shown["admission"]["state"] == "waiting"
        assert shown["admission"]["queue"] == queue
        assert "quota" in shown["admission"]["reason"].lower()
        kueue.stop()
        try:
            down = _view(api, world, inv_id)["admission"]
            assert down["state"] == "waiting" and down["position_in_local_queue"] is None
            with world.container.db.transaction() as s:
                s.execute(
                    update(InvestigationRow)
                    .where(InvestigationRow.id == inv_id)
                    .values(deadline_at=datetime.now(UTC) - timedelta(minutes=5))
                )
            assert world.container.reconciler.enforce_deadlines() == 1
            ended = world.container.investigations.get(inv_id, UNCONCEALED)
            assert ended.status == S.DEADLINE_EXCEEDED
            assert ended.reason.startswith(
                "deadline exceeded while waiting for admission in Kueue (never admitted)"
            )
            assert queue in ended.reason
            assert _view(api, world, inv_id)["admission"] is None  # ended: nothing to admit
        finally:
            kueue.start()
    for run in (holder, queued):
        ex.stop(run.investigation_id, "test over")
    for run in (holder, queued):
        assert exits.wait_for(run.investigation_id, timeout=60).status is S.CANCELLED
