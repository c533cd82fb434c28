"""What a proposal becomes in each trust phase: shadow records it hidden,
assist recommends it, autonomous-l1 executes in scope at or above the
threshold and escalates below it."""

from __future__ import annotations

from fastapi.testclient import TestClient

from nightshift.notifications.fake import FakeNotifier
from tests.support.control_plane import World
from tests.unit.workflow.flow import FIREWALL_FIX, agent, finish, propose, start

CHECKOUT = {"kind": "Deployment", "name": "checkout-api", "namespace": "shop"}


def test_shadow_proposals_are_recorded_hidden_and_never_executed(
    client: TestClient, world: World, notifier: FakeNotifier
) -> None:
    agent(world, "quiet", "shadow")
    inv_id, worker = start(client, world, "quiet")
    got = propose(client, inv_id, worker, "restart-deployment", CHECKOUT, confidence=0.99)
    assert (got["status"], got["visible"]) == ("recorded", False)
    assert got["decision"]["reason"] == "shadow_record_only"
    assert client.get("/v1/approvals?status=any", headers=world.auth("operator")).json() == []
    hidden = client.get(f"/v1/approvals/{got['id']}", headers=world.auth("operator"))
    assert hidden.status_code == 404
    admin = client.get(f"/v1/approvals/{got['id']}", headers=world.auth("admin"))
    assert admin.json()["status"] == "recorded"
    finish(client, inv_id, worker, status="escalated")
    assert client.get("/v1/escalations", headers=world.auth("viewer")).json() == []
    assert notifier.sent == []


def test_assist_proposals_are_recommendations_only(client: TestClient, world: World) -> None:
    agent(world, "helper", "assist")
    inv_id, worker = start(client, world, "helper")
    got = propose(client, inv_id, worker, "restart-deployment", CHECKOUT, confidence=0.99)
    assert (got["status"], got["visible"]) == ("recommended", True)
    assert got["decision"]["reason"] == "recommendation_only"
    shown = client.get(f"/v1/investigations/{inv_id}/proposals", headers=world.auth("viewer"))
    assert [p["status"] for p in shown.json()] == ["recommended"]
    assert client.get("/v1/approvals", headers=world.auth("viewer")).json() == []


def test_autonomous_executes_in_scope_at_or_above_the_threshold(
    client: TestClient, world: World
) -> None:
    agent(world, "auto", "autonomous-l1", threshold=0.8)
    inv_id, worker = start(client, world, "auto")
    got = propose(
        client,
        inv_id,
        worker,
        "scale-deployment",
        CHECKOUT,
        confidence=0.8,
        params={"replicas": 12},
    )
    assert got["decision"]["reason"] == "auto_execute"
    assert got["status"] == "executed"
    assert got["decided_by"] is None
    assert got["result"]["execute"]["ok"] is True
    assert got["result"]["execute"]["undo"] == {"replicas": 10}
    # scaling does not remove a firewall block: verification says so and escalates
    assert got["result"]["verified"] is False
    kinds = [e["kind"] for e in client.get("/v1/escalations", headers=world.auth("viewer")).json()]
    assert kinds == ["remediation_unverified"]


def test_autonomous_below_the_threshold_escalates_instead_of_executing(
    client: TestClient, world: World, notifier: FakeNotifier
) -> None:
    agent(world, "auto", "autonomous-l1", threshold=0.9)
    inv_id, worker = start(client, world, "auto")
    got = propose(client, inv_id, worker, "restart-deployment", CHECKOUT, confidence=0.6)
    assert got["status"] == "pending_approval"
    assert got["decision"]["reason"] == "escalate_low_confidence"
    assert got["executed_at"] is None
    [esc] = client.get("/v1/escalations", headers=world.auth("viewer")).json()
    assert esc["kind"] == "low_confidence"
    assert esc["proposal_id"] == got["id"]
    assert esc["routed_to"] == ["lead@example.org", "oncall@example.org"]
    assert [n.kind for n in notifier.sent] == ["low_confidence"]


def test_autonomous_firewall_reverts_still_need_a_human(client: TestClient, world: World) -> None:
    agent(world, "auto", "autonomous-l1", threshold=0.5)
    inv_id, worker = start(client, world, "auto")
    got = propose(client, inv_id, worker, target=FIREWALL_FIX, confidence=0.99)
    assert (got["status"], got["decision"]["reason"]) == ("pending_approval", "approval_required")


def test_out_of_scope_proposals_are_denied_and_escalated(
    client: TestClient, world: World, notifier: FakeNotifier
) -> None:
    agent(world, "fixer", "limited-remediation")
    inv_id, worker = start(client, world, "fixer")
    got = propose(
        client,
        inv_id,
        worker,
        "restart-deployment",
        {"kind": "Deployment", "name": "ledger", "namespace": "finance"},
    )
    assert (got["status"], got["decision"]["reason"]) == ("denied", "out_of_scope")
    [esc] = client.get("/v1/escalations", headers=world.auth("viewer")).json()
    assert esc["kind"] == "out_of_scope"
    assert esc["payload"]["proposal"]["target"]["namespace"] == "finance"


def test_identical_pending_requests_are_batched_into_one(client: TestClient, world: World) -> None:
    agent(world, "fixer", "limited-remediation")
    first_inv, first = start(client, world, "fixer")
    second_inv, second = start(client, world, "fixer")
    a = propose(client, first_inv, first, "restart-deployment", CHECKOUT)
    b = propose(client, second_inv, second, "restart-deployment", CHECKOUT)
    assert (b["status"], b["batched_into"]) == ("batched", a["id"])
    pending = client.get("/v1/approvals", headers=world.auth("viewer")).json()
    assert [(p["id"], p["batch_count"]) for p in pending] == [(a["id"], 2)]
    joined = client.post(f"/v1/approvals/{b['id']}/approve", headers=world.auth("operator"))
    assert joined.status_code == 409


def test_new_approval_requests_are_rate_limited_per_agent(
    client: TestClient, world: World, notifier: FakeNotifier
) -> None:
    agent(world, "fixer", "limited-remediation")  # the fixture allows 3 per hour
    inv_id, worker = start(client, world, "fixer")
    statuses = [
        propose(
            client,
            inv_id,
            worker,
            "restart-pod",
            {"kind": "Pod", "name": f"checkout-api-{i}", "namespace": "shop"},
        )["status"]
        for i in range(5)
    ]
    assert statuses == ["pending_approval"] * 3 + ["suppressed"] * 2
    kinds = [e["kind"] for e in client.get("/v1/escalations", headers=world.auth("viewer")).json()]
    assert kinds == ["approval_rate_limited"]  # one per hour, not one per request
