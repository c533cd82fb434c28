"""A proposal whose execution was interrupted (the control plane died between
the claim and the record) is settled from the target's state at the next start,
ends executed or failed with that reason, and escalates what a human must check."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from fastapi.testclient import TestClient

from nightshift.services.remediation_port import (
    Observation,
    RemediationJob,
    Remediator,
    StepResult,
)
from tests.support.control_plane import World
from tests.unit.workflow.flow import agent, propose, start

CHECKOUT = {"kind": "Deployment", "name": "checkout-api", "namespace": "shop"}


class ProcessDied(BaseException):
    """Not an Exception: nothing in the execution path may catch it, as with SIGKILL."""


class DiesMidExecution:
    """Wraps a real remediator; the process 'dies' before or after the action runs."""

    def __init__(self, inner: Remediator, *, after: bool) -> None:
        self.inner, self.after = inner, after

    def dry_run(self, job: RemediationJob) -> StepResult:
        return self.inner.dry_run(job)

    def execute(self, job: RemediationJob) -> StepResult:
        if self.after:
            self.inner.execute(job)
        raise ProcessDied

    def symptoms_present(self, job: RemediationJob) -> bool:
        return self.inner.symptoms_present(job)

    def rollback(self, job: RemediationJob, inverse: str, undo: Mapping[str, Any]) -> StepResult:
        return self.inner.rollback(job, inverse, undo)

    def observe(self, job: RemediationJob) -> Observation:
        return self.inner.observe(job)


def _approve_and_die(client: TestClient, world: World, *, after: bool) -> str:
    agent(world, "fixer", "limited-remediation")
    inv_id, worker = start(client, world, "fixer")
    pid = str(
        propose(client, inv_id, worker, "scale-deployment", CHECKOUT, params={"replicas": 3})["id"]
    )
    proposals = world.container.proposals
    run, proposals.on_approved = proposals.on_approved, None
    approved = client.post(f"/v1/approvals/{pid}/approve", headers=world.auth("operator"))
    assert approved.json()["status"] == "approved"
    proposals.on_approved = run
    execution = world.container.execution
    real = execution.remediator
    execution.remediator = DiesMidExecution(real, after=after)
    with pytest.raises(ProcessDied):  # what approve runs next, in the dying process
        execution.run(pid)
    execution.remediator = real  # the restarted process has a working remediator
    stuck = client.get(f"/v1/approvals/{pid}", headers=world.auth("operator")).json()
    assert stuck["status"] == "executing"
    assert stuck["result"]["dry_run"]["ok"] is True  # stored before the world changed
    return pid


def _escalations(client: TestClient, world: World, pid: str) -> list[dict[str, Any]]:
    listed = client.get("/v1/escalations", headers=world.auth("operator")).json()
    items = listed["items"] if isinstance(listed, dict) else listed
    return [e for e in items if e.get("proposal_id") == pid]


def test_an_execution_interrupted_after_it_took_effect_is_settled_executed(
    client: TestClient, world: World
) -> None:
    pid = _approve_and_die(client, world, after=True)
    recovered = world.container.reconciler.recover_after_restart()
    assert recovered["executions_settled"] == 1
    done = client.get(f"/v1/approvals/{pid}", headers=world.auth("operator")).json()
    assert done["status"] == "executed"
    assert done["executed_at"] is not None
    assert done["result"]["interrupted"]["effect"] == "in_effect"
    assert "took effect" in done["result"]["interrupted"]["reason"]
    (esc,) = _escalations(client, world, pid)
    assert esc["kind"] == "remediation_interrupted"
    assert "took effect" in esc["summary"] and "check " in esc["summary"]
    # Settled once: a second start finds nothing, and the action can be rolled back.
    assert world.container.reconciler.recover_after_restart()["executions_settled"] == 0
    back = client.post(
        f"/v1/approvals/{pid}/rollback", json={"reason": "undo"}, headers=world.auth("operator")
    )
    assert back.status_code == 200, back.text


def test_an_execution_interrupted_before_the_action_ran_is_settled_failed(
    client: TestClient, world: World
) -> None:
    pid = _approve_and_die(client, world, after=False)
    world.container.reconciler.recover_after_restart()
    done = client.get(f"/v1/approvals/{pid}", headers=world.auth("operator")).json()
    assert done["status"] == "failed"
    assert done["result"]["interrupted"]["effect"] == "not_in_effect"
    assert "did not take effect" in done["result"]["interrupted"]["reason"]
    (esc,) = _escalations(client, world, pid)
    assert "run again" in esc["summary"]


def test_a_running_replica_leaves_a_fresh_execution_alone(client: TestClient, world: World) -> None:
    pid = _approve_and_die(client, world, after=False)
    assert world.container.reconciler.settle_stale_executions() == 0
    still = client.get(f"/v1/approvals/{pid}", headers=world.auth("operator")).json()
    assert still["status"] == "executing"


def test_an_unreadable_target_is_settled_failed_and_names_a_check_by_hand(
    client: TestClient, world: World
) -> None:
    pid = _approve_and_die(client, world, after=True)

    class Blind(DiesMidExecution):
        def observe(self, job: RemediationJob) -> Observation:
            raise ConnectionError("API server unreachable")

    execution = world.container.execution
    execution.remediator = Blind(execution.remediator, after=False)
    world.container.reconciler.recover_after_restart()
    done = client.get(f"/v1/approvals/{pid}", headers=world.auth("operator")).json()
    assert done["status"] == "failed"
    assert done["result"]["interrupted"]["effect"] == "unknown"
    assert "by hand" in done["result"]["interrupted"]["reason"]


class RollbackFails:
    """A real remediator whose rollback raises, or 'dies' (after undoing or not)."""

    def __init__(self, inner: Remediator, error: BaseException, *, undo_first: bool) -> None:
        self.inner, self.error, self.undo_first = inner, error, undo_first

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def rollback(self, job: RemediationJob, inverse: str, undo: Mapping[str, Any]) -> StepResult:
        if self.undo_first:
            self.inner.rollback(job, inverse, undo)
        raise self.error


def _executed(client: TestClient, world: World) -> str:
    agent(world, "fixer", "limited-remediation")
    inv_id, worker = start(client, world, "fixer")
    pid = str(
        propose(client, inv_id, worker, "scale-deployment", CHECKOUT, params={"replicas": 3})["id"]
    )
    approved = client.post(f"/v1/approvals/{pid}/approve", headers=world.auth("operator"))
    assert approved.json()["status"] == "executed", approved.text
    return pid


def _rollback(client: TestClient, world: World, pid: str) -> Any:
    return client.post(
        f"/v1/approvals/{pid}/rollback", json={"reason": "undo"}, headers=world.auth("operator")
    )


def test_a_rollback_whose_remediator_raises_is_not_left_rolling_back(
    client: TestClient, world: World
) -> None:
    pid = _executed(client, world)
    execution = world.container.execution
    real = execution.remediator
    execution.remediator = RollbackFails(real, RuntimeError("API server down"), undo_first=False)
    refused = _rollback(client, world, pid)
    assert refused.status_code == 409 and "API server down" in refused.json()["message"]
    execution.remediator = real
    after = client.get(f"/v1/approvals/{pid}", headers=world.auth("operator")).json()
    assert after["status"] == "executed"  # still in effect, and may be rolled back again
    assert _rollback(client, world, pid).json()["status"] == "rolled_back"


@pytest.mark.parametrize(("undo_first", "ends"), [(True, "rolled_back"), (False, "executed")])
def test_a_rollback_interrupted_by_a_crash_is_settled_at_restart(
    client: TestClient, world: World, undo_first: bool, ends: str
) -> None:
    pid = _executed(client, world)
    execution = world.container.execution
    real = execution.remediator
    execution.remediator = RollbackFails(real, ProcessDied(), undo_first=undo_first)
    operator = world.container.principals.authenticate(world.tokens["operator"])
    assert operator is not None
    with pytest.raises(ProcessDied):  # the process dies mid-rollback
        execution.rollback(pid, operator, "undo")
    execution.remediator = real
    stuck = client.get(f"/v1/approvals/{pid}", headers=world.auth("operator")).json()
    assert stuck["status"] == "rolling_back"
    assert world.container.reconciler.settle_stale_executions() == 0  # maybe a live replica's
    assert world.container.reconciler.recover_after_restart()["executions_settled"] == 1
    done = client.get(f"/v1/approvals/{pid}", headers=world.auth("operator")).json()
    assert done["status"] == ends, done["result"]["rollback"]
    assert done["result"]["rollback"]["interrupted"] is True
    escalated = [e for e in _escalations(client, world, pid) if "rolling back" in e["summary"]]
    assert len(escalated) == 1, _escalations(client, world, pid)
