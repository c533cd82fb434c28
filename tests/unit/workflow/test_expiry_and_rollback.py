"""Approval requests expire (and escalate); executed reversible actions roll
back through their catalog inverse and count as rollbacks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from nightshift.domain.diagnosis import ResourceRef
from nightshift.domain.vocabulary import TrustPhase
from nightshift.services.concealment import UNCONCEALED
from nightshift.services.remediation_port import RemediationJob
from nightshift.sources.config import SourceKind
from nightshift.store.tables import ActionProposalRow
from nightshift.worker_spec import simulated_source
from tests.support.control_plane import World
from tests.unit.workflow.flow import agent, propose, start

CHECKOUT = {"kind": "Deployment", "name": "checkout-api", "namespace": "shop"}


def test_expired_requests_escalate_and_can_no_longer_be_approved(
    client: TestClient, world: World
) -> None:
    agent(world, "fixer", "limited-remediation")
    inv_id, worker = start(client, world, "fixer")
    pid = propose(client, inv_id, worker)["id"]
    assert world.container.approvals.expire_due() == 0  # not yet due
    later = datetime.now(UTC) + timedelta(hours=2)
    assert world.container.approvals.expire_due(later) == 1
    resp = client.post(f"/v1/approvals/{pid}/approve", headers=world.auth("operator"))
    assert resp.status_code == 409
    assert "expired" in resp.json()["message"]
    [esc] = client.get("/v1/escalations", headers=world.auth("viewer")).json()
    assert (esc["kind"], esc["proposal_id"]) == ("approval_expired", pid)
    assert esc["payload"]["trail"]["root_causes"] == []  # the investigation is still running


def test_a_past_ttl_request_is_refused_even_before_the_reconciler_runs(
    client: TestClient, world: World
) -> None:
    agent(world, "fixer", "limited-remediation")
    inv_id, worker = start(client, world, "fixer")
    pid = propose(client, inv_id, worker)["id"]
    with world.container.db.transaction() as s:
        row = s.get(ActionProposalRow, pid)
        assert row is not None
        row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    resp = client.post(f"/v1/approvals/{pid}/approve", headers=world.auth("operator"))
    assert resp.status_code == 409


def test_rollback_runs_the_inverse_and_counts_for_demotion(
    client: TestClient, world: World
) -> None:
    agent(world, "fixer", "limited-remediation")
    inv_id, worker = start(client, world, "fixer")
    pid = propose(client, inv_id, worker, "scale-deployment", CHECKOUT, params={"replicas": 3})[
        "id"
    ]
    done = client.post(f"/v1/approvals/{pid}/approve", headers=world.auth("operator")).json()
    assert done["status"] == "executed"
    no_reason = client.post(
        f"/v1/approvals/{pid}/rollback", json={"reason": ""}, headers=world.auth("operator")
    )
    assert no_reason.status_code == 422
    resp = client.post(
        f"/v1/approvals/{pid}/rollback",
        json={"reason": "fewer replicas made it worse"},
        headers=world.auth("operator"),
    )
    assert resp.status_code == 200, resp.text
    back = resp.json()
    assert back["status"] == "rolled_back"
    assert back["result"]["rollback"]["inverse"] == "scale-deployment"
    assert back["result"]["rollback"]["ok"] is True
    routed = world.container.execution.remediator
    sim = routed.remediator_for(SourceKind.SIMULATED).world  # type: ignore[attr-defined]
    job = RemediationJob(
        inv_id, "x", ResourceRef("Deployment", "x"), sources=(simulated_source("two-am-cascade"),)
    )
    state = sim(job)
    replicas = {d.name: d.replicas for d in state.state.deployments}
    assert replicas["checkout-api"] == 10
    again = client.post(
        f"/v1/approvals/{pid}/rollback", json={"reason": "twice"}, headers=world.auth("operator")
    )
    assert again.status_code == 409
    evidence = world.container.evidence.records("fixer")
    assert [r.rolled_back for r in evidence.remediations] == [True]
    tallied = world.container.evidence.evidence_for("fixer", TrustPhase.LIMITED_REMEDIATION)
    assert (tallied.approved_remediations, tallied.rolled_back) == (1, 1)


def test_irreversible_actions_cannot_be_rolled_back(client: TestClient, world: World) -> None:
    agent(world, "fixer", "limited-remediation")
    inv_id, worker = start(client, world, "fixer")
    pid = propose(client, inv_id, worker, "restart-deployment", CHECKOUT)["id"]
    client.post(f"/v1/approvals/{pid}/approve", headers=world.auth("operator"))
    resp = client.post(
        f"/v1/approvals/{pid}/rollback", json={"reason": "undo"}, headers=world.auth("operator")
    )
    assert resp.status_code == 409
    assert "irreversible" in resp.json()["message"]


def test_an_approved_action_lost_before_execution_is_resumed_by_the_reconciler(
    client: TestClient, world: World
) -> None:
    agent(world, "fixer", "limited-remediation")
    inv_id, worker = start(client, world, "fixer")
    pid = propose(client, inv_id, worker, target={"kind": "Change", "name": "CHG-20417"})["id"]
    run = world.container.proposals.on_approved
    world.container.proposals.on_approved = None  # the process "dies" after approving
    approved = client.post(f"/v1/approvals/{pid}/approve", headers=world.auth("operator"))
    assert approved.json()["status"] == "approved"
    world.container.proposals.on_approved = run
    world.container.approvals.expire_due()  # too recent: left alone
    assert world.container.proposals.get(pid, UNCONCEALED).status == "approved"
    world.container.approvals.expire_due(datetime.now(UTC) + timedelta(minutes=1))
    assert world.container.proposals.get(pid, UNCONCEALED).status == "executed"
