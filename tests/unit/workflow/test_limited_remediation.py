"""limited-remediation: proposals wait for a human operator who is not the agent;
approve (as asked or a modified target within scope) executes once in the
simulated world and verifies the symptom; reject needs a reason."""

from __future__ import annotations

from fastapi.testclient import TestClient

from nightshift.domain.vocabulary import PrincipalKind, Role
from tests.support.control_plane import World
from tests.unit.workflow.flow import FIREWALL_FIX, agent, propose, start


def test_limited_proposal_waits_for_approval_and_expires_later(
    client: TestClient, world: World
) -> None:
    agent(world, "fixer", "limited-remediation")
    inv_id, worker = start(client, world, "fixer")
    got = propose(client, inv_id, worker)
    assert got["status"] == "pending_approval"
    assert got["decision"]["reason"] == "approval_required"
    assert got["expires_at"] is not None
    listed = client.get("/v1/approvals", headers=world.auth("viewer")).json()
    assert [p["id"] for p in listed] == [got["id"]]
    [decided] = [
        r.entry
        for r in world.container.audit.for_investigation(inv_id)
        if r.entry.request.get("proposal_id") == got["id"]
    ]
    assert (decided.actor, decided.owner, decided.phase) == ("fixer", "lead", "limited-remediation")
    assert (decided.decision, decided.reason) == ("needs_approval", "approval_required")
    assert decided.intent == "CHG-20417 narrowed the allow rule to 443"


def test_approving_a_modified_target_within_scope_executes_and_verifies_the_fix(
    client: TestClient, world: World
) -> None:
    agent(world, "fixer", "limited-remediation")
    inv_id, worker = start(client, world, "fixer")
    pid = propose(client, inv_id, worker)["id"]
    resp = client.post(
        f"/v1/approvals/{pid}/approve",
        json={"reason": "the change id, not the ruleset", "target": FIREWALL_FIX},
        headers=world.auth("operator"),
    )
    assert resp.status_code == 200, resp.text
    done = resp.json()
    assert done["status"] == "executed"
    assert done["target"]["name"] == "CHG-20417"
    assert done["decided_by"] == "operator"
    assert done["result"]["dry_run"]["ok"] is True
    assert done["result"]["symptoms_before"] is True
    assert done["result"]["symptoms_after"] is False
    assert done["result"]["verified"] is True
    assert done["result"]["modified_from"]["target"]["name"] == "k8s-prod-to-dc"


def test_approving_as_asked_fails_the_dry_run_and_escalates_without_executing(
    client: TestClient, world: World, notifier: object
) -> None:
    agent(world, "fixer", "limited-remediation")
    inv_id, worker = start(client, world, "fixer")
    pid = propose(client, inv_id, worker)["id"]
    done = client.post(f"/v1/approvals/{pid}/approve", headers=world.auth("operator")).json()
    assert done["status"] == "failed"
    assert done["result"]["dry_run"]["ok"] is False
    assert "execute" not in done["result"]
    kinds = [e["kind"] for e in client.get("/v1/escalations", headers=world.auth("viewer")).json()]
    assert kinds == ["remediation_failed"]


def test_a_modified_target_outside_scope_is_refused_and_nothing_runs(
    client: TestClient, world: World
) -> None:
    agent(world, "fixer", "limited-remediation")
    inv_id, worker = start(client, world, "fixer")
    checkout = {"kind": "Deployment", "name": "checkout-api", "namespace": "shop"}
    pid = propose(client, inv_id, worker, "restart-deployment", checkout)["id"]
    resp = client.post(
        f"/v1/approvals/{pid}/approve",
        json={"target": {"kind": "Deployment", "name": "billing", "namespace": "payments"}},
        headers=world.auth("operator"),
    )
    assert resp.status_code == 403, resp.text
    assert "out_of_scope" in resp.json()["message"]
    still = client.get(f"/v1/approvals/{pid}", headers=world.auth("viewer")).json()
    assert still["status"] == "pending_approval"
    assert still["result"] is None


def test_reject_needs_a_reason_and_then_nothing_executes(client: TestClient, world: World) -> None:
    agent(world, "fixer", "limited-remediation")
    inv_id, worker = start(client, world, "fixer")
    pid = propose(client, inv_id, worker)["id"]
    no_reason = client.post(
        f"/v1/approvals/{pid}/reject", json={"reason": ""}, headers=world.auth("operator")
    )
    assert no_reason.status_code == 422
    resp = client.post(
        f"/v1/approvals/{pid}/reject",
        json={"reason": "revert it through the change board"},
        headers=world.auth("operator"),
    )
    assert resp.json()["status"] == "rejected"
    again = client.post(f"/v1/approvals/{pid}/approve", headers=world.auth("operator"))
    assert again.status_code == 409
    assert "already rejected" in again.json()["message"]


def test_an_already_approved_request_cannot_be_approved_twice(
    client: TestClient, world: World
) -> None:
    agent(world, "fixer", "limited-remediation")
    inv_id, worker = start(client, world, "fixer")
    pid = propose(client, inv_id, worker)["id"]
    body = {"target": FIREWALL_FIX}
    assert (
        client.post(
            f"/v1/approvals/{pid}/approve", json=body, headers=world.auth("operator")
        ).status_code
        == 200
    )
    second = client.post(f"/v1/approvals/{pid}/approve", json=body, headers=world.auth("lead"))
    assert second.status_code == 409
    executions = [c for c in world.container.audit.recent(200) if c.entry.decision == "executed"]
    assert len(executions) == 1


def test_a_viewer_cannot_approve_and_a_worker_cannot_approve_its_own_request(
    client: TestClient, world: World
) -> None:
    agent(world, "fixer", "limited-remediation")
    inv_id, worker = start(client, world, "fixer")
    pid = propose(client, inv_id, worker)["id"]
    assert (
        client.post(f"/v1/approvals/{pid}/approve", headers=world.auth("viewer")).status_code == 403
    )
    assert client.post(f"/v1/approvals/{pid}/approve", headers=worker).status_code == 403


def test_a_user_holding_the_agents_own_identity_cannot_approve(
    client: TestClient, world: World
) -> None:
    agent(world, "fixer", "limited-remediation")
    p = world.container.principals
    p.create_user(
        "fixer", kind=PrincipalKind.HUMAN, roles=frozenset({Role.OPERATOR}), contact="x@example.org"
    )
    own = {"Authorization": f"Bearer {p.create_token('fixer')}"}
    inv_id, worker = start(client, world, "fixer")
    pid = propose(client, inv_id, worker)["id"]
    resp = client.post(f"/v1/approvals/{pid}/approve", headers=own)
    assert resp.status_code == 403, resp.text
    assert "approver_is_agent" in resp.json()["message"]
    refused = [r for r in world.container.audit.recent(50) if r.entry.decision == "refused"]
    assert refused and refused[-1].entry.actor == "fixer"


def test_a_service_principal_with_the_operator_role_cannot_approve(
    client: TestClient, world: World
) -> None:
    agent(world, "fixer", "limited-remediation")
    p = world.container.principals
    p.create_user("ci-bot", kind=PrincipalKind.SERVICE, roles=frozenset({Role.OPERATOR}))
    bot = {"Authorization": f"Bearer {p.create_token('ci-bot')}"}
    inv_id, worker = start(client, world, "fixer")
    pid = propose(client, inv_id, worker)["id"]
    resp = client.post(f"/v1/approvals/{pid}/approve", headers=bot)
    assert resp.status_code == 403, resp.text
    assert "approver_not_human" in resp.json()["message"]


def test_foreign_requests_are_refused(client: TestClient, world: World) -> None:
    """Unknown ids, a recommendation (not an approval request) and another
    investigation's worker token are all refused, and nothing runs."""
    agent(world, "fixer", "limited-remediation")
    inv_id, _ = start(client, world, "fixer")
    other_id, other_worker = start(client, world, "triage")
    assert (
        client.post("/v1/approvals/nope/approve", headers=world.auth("operator")).status_code == 404
    )
    recommendation = propose(client, other_id, other_worker)
    assert recommendation["status"] == "recommended"
    resp = client.post(
        f"/v1/approvals/{recommendation['id']}/approve", headers=world.auth("operator")
    )
    assert resp.status_code == 409
    assert "not an approval request" in resp.json()["message"]
    stolen = client.post(
        f"/v1/investigations/{inv_id}/worker/proposals",
        json={
            "proposals": [
                {
                    "action": "restart-pod",
                    "confidence": 0.9,
                    "target": {"kind": "Pod", "name": "x", "namespace": "shop"},
                }
            ]
        },
        headers=other_worker,
    )
    assert stolen.status_code == 403


def test_an_engaged_kill_switch_refuses_pending_approvals(client: TestClient, world: World) -> None:
    agent(world, "fixer", "limited-remediation")
    inv_id, worker = start(client, world, "fixer")
    pid = propose(client, inv_id, worker, target=FIREWALL_FIX)["id"]
    lead = world.container.principals.authenticate(world.tokens["lead"])
    assert lead is not None
    world.container.kill_switch.engage("fixer", lead, "runaway remediation")
    resp = client.post(f"/v1/approvals/{pid}/approve", headers=world.auth("operator"))
    assert resp.status_code == 403
    assert "kill_switch_agent" in resp.json()["message"]
    assert client.get(f"/v1/approvals/{pid}", headers=world.auth("viewer")).json()["result"] is None
