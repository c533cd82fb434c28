"""An agent is only as accountable as its owner."""

from __future__ import annotations

from fastapi.testclient import TestClient

from nightshift.domain.vocabulary import PrincipalKind, Role
from tests.support.control_plane import World


def _submit(client: TestClient, world: World) -> dict[str, str]:
    resp = client.post(
        "/v1/investigations",
        json={"agent": "triage", "title": "db latency"},
        headers=world.auth("operator"),
    )
    assert resp.status_code == 201, resp.text
    return dict(resp.json())


def _status(client: TestClient, world: World, inv_id: str) -> str:
    return str(
        client.get(f"/v1/investigations/{inv_id}", headers=world.auth("viewer")).json()["status"]
    )


def test_deactivating_an_owner_suspends_their_agents_and_holds_their_queue(
    client: TestClient, world: World
) -> None:
    queued = _submit(client, world)
    resp = client.post(
        "/v1/users/lead/deactivate",
        json={"reason": "left the company"},
        headers=world.auth("admin"),
    )
    assert resp.status_code == 200
    assert resp.json()["suspended_agents"] == ["triage"]
    agent = client.get("/v1/agents/triage", headers=world.auth("viewer")).json()
    assert (agent["status"], agent["owner_active"]) == ("suspended", False)
    assert _status(client, world, queued["id"]) == "held"
    world.container.dispatcher.dispatch_once()
    assert world.executor.launches == []


def test_transfer_to_an_active_human_lifts_the_suspension_and_releases_the_queue(
    client: TestClient, world: World
) -> None:
    queued = _submit(client, world)
    client.post("/v1/users/lead/deactivate", json={}, headers=world.auth("admin"))
    world.container.principals.create_user(
        "dana", kind=PrincipalKind.HUMAN, roles=frozenset({Role.OPS_LEAD}), contact="dana@x.org"
    )
    resp = client.post(
        "/v1/agents/triage/transfer",
        json={"new_owner": "dana", "reason": "lead left; dana owns triage now"},
        headers=world.auth("admin"),
    )
    assert resp.status_code == 204, resp.text
    agent = client.get("/v1/agents/triage", headers=world.auth("viewer")).json()
    assert (agent["owner"], agent["status"]) == ("dana", "active")
    assert _status(client, world, queued["id"]) == "queued"
    trail = world.container.audit.recent(10)
    transfer = [r for r in trail if r.entry.request.get("transfer") == "triage"]
    assert transfer and transfer[0].entry.intent == "lead left; dana owns triage now"


def test_ownership_cannot_go_to_a_service_principal(client: TestClient, world: World) -> None:
    world.container.principals.create_user(
        "ci-bot", kind=PrincipalKind.SERVICE, roles=frozenset({Role.VIEWER})
    )
    resp = client.post(
        "/v1/agents/triage/transfer",
        json={"new_owner": "ci-bot", "reason": "automation"},
        headers=world.auth("admin"),
    )
    assert resp.status_code == 422
    assert "human" in resp.json()["message"]
    assert client.get("/v1/agents/triage", headers=world.auth("viewer")).json()["owner"] == "lead"


def test_resume_is_refused_while_the_owner_is_inactive(client: TestClient, world: World) -> None:
    client.post("/v1/users/lead/deactivate", json={}, headers=world.auth("admin"))
    resp = client.post("/v1/agents/triage/resume", headers=world.auth("admin"))
    assert resp.status_code == 409
    assert "transfer ownership" in resp.json()["message"]


def test_suspension_needs_a_reason_and_an_ops_lead(client: TestClient, world: World) -> None:
    assert (
        client.post(
            "/v1/agents/triage/suspend", json={"reason": "noisy"}, headers=world.auth("operator")
        ).status_code
        == 403
    )
    assert (
        client.post(
            "/v1/agents/triage/suspend", json={"reason": ""}, headers=world.auth("lead")
        ).status_code
        == 422
    )
    assert (
        client.post(
            "/v1/agents/triage/suspend",
            json={"reason": "noisy at night"},
            headers=world.auth("lead"),
        ).status_code
        == 204
    )
    agent = client.get("/v1/agents/triage", headers=world.auth("viewer")).json()
    assert (agent["status"], agent["status_reason"]) == ("suspended", "noisy at night")


def test_contradictory_boundaries_are_refused_and_nothing_changes(
    client: TestClient, world: World
) -> None:
    before = world.container.stewardship.identity("triage").boundaries
    resp = client.put(
        "/v1/agents/triage/boundaries",
        json={"domains": ["network"], "action_types": ["restart-pod"], "namespaces": ["shop"]},
        headers=world.auth("lead"),
    )
    assert resp.status_code == 422
    assert world.container.stewardship.identity("triage").boundaries == before


def test_unknown_class_or_phase_is_refused_with_the_allowed_values(
    client: TestClient, world: World
) -> None:
    resp = client.post(
        "/v1/agents",
        json={"name": "x1", "owner": "lead", "authority_class": "omnipotent"},
        headers=world.auth("lead"),
    )
    assert resp.status_code == 422
    assert "advisory" in resp.json()["message"]
