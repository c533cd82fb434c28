"""Shadow output waits in a review queue and is hidden from non-admins until reviewed."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient

from nightshift.domain.access import Caller
from nightshift.domain.vocabulary import InvestigationStatus, PrincipalKind, Role
from nightshift.services.concealment import CONCEALED, conceal_event, conceals
from tests.support.control_plane import World
from tests.unit.workflow.flow import agent, finish, propose, start

OPERATOR = Caller("op", PrincipalKind.HUMAN, frozenset({Role.OPERATOR}))
ADMIN = Caller("root", PrincipalKind.HUMAN, frozenset({Role.ADMIN}))


def test_shadow_output_is_concealed_from_operators_until_reviewed() -> None:
    assert conceals("shadow", None, OPERATOR)
    assert not conceals("shadow", None, ADMIN)
    assert not conceals("assist", None, OPERATOR)
    assert not conceals("shadow", datetime.now(UTC), OPERATOR)
    assert conceals("not-a-phase", None, OPERATOR)  # fail closed


def test_concealed_events_drop_the_diagnosis_and_the_final_reason() -> None:
    assert conceal_event("result", {"root_causes": []}) is None
    assert conceal_event("hypothesis.created", {"fault": "x"}) is None
    assert conceal_event("tool.requested", {"tool": "kubectl_get"}) == {"tool": "kubectl_get"}
    ended = conceal_event("status", {"status": "succeeded", "reason": "firewall on X"})
    assert ended == {"status": "succeeded", "reason": CONCEALED}
    assert conceal_event("status", {"status": "running", "reason": ""}) == {
        "status": "running",
        "reason": "",
    }


def test_the_review_queue_holds_shadow_output_until_an_ops_lead_reviews_it(
    client: TestClient, world: World
) -> None:
    agent(world, "quiet", "shadow")
    inv_id, worker = start(client, world, "quiet")
    propose(client, inv_id, worker)
    finish(client, inv_id, worker)
    assert world.container.reviews.conceals(inv_id, OPERATOR)
    hidden = world.container.investigations.get(inv_id, OPERATOR)
    assert (hidden.result, hidden.reason, hidden.status) == (
        None,
        CONCEALED,
        InvestigationStatus.SUCCEEDED,
    )
    assert world.container.investigations.get(inv_id, ADMIN).result is not None
    [item] = client.get("/v1/reviews/shadow", headers=world.auth("viewer")).json()
    assert item["result"] is None and item["investigation_id"] == inv_id
    assert (
        client.get(f"/v1/investigations/{inv_id}/proposals", headers=world.auth("operator")).json()
        == []
    )
    early = client.post(
        f"/v1/investigations/{inv_id}/verdicts",
        json={"kind": "accept"},
        headers=world.auth("operator"),
    )
    assert early.status_code == 409
    assert (
        client.get(f"/v1/reviews/shadow/{item['id']}", headers=world.auth("operator")).status_code
        == 403
    )
    detail = client.get(f"/v1/reviews/shadow/{item['id']}", headers=world.auth("lead")).json()
    assert detail["result"]["root_causes"][0]["fault"] == "firewall-rule-change"
    assert [p["status"] for p in detail["proposals"]] == ["recorded"]
    done = client.post(
        f"/v1/reviews/shadow/{item['id']}/review",
        json={"note": "matches PM"},
        headers=world.auth("lead"),
    )
    assert done.json()["status"] == "reviewed"
    assert not world.container.reviews.conceals(inv_id, OPERATOR)
    again = client.post(f"/v1/reviews/shadow/{item['id']}/review", headers=world.auth("lead"))
    assert again.status_code == 409
    shown = client.get(f"/v1/investigations/{inv_id}/proposals", headers=world.auth("operator"))
    assert [p["status"] for p in shown.json()] == ["recorded"]
    assert (
        client.post(
            f"/v1/investigations/{inv_id}/verdicts",
            json={"kind": "accept"},
            headers=world.auth("operator"),
        ).status_code
        == 201
    )


def test_non_shadow_investigations_are_not_queued(client: TestClient, world: World) -> None:
    agent(world, "helper", "assist")
    inv_id, worker = start(client, world, "helper")
    finish(client, inv_id, worker)
    assert client.get("/v1/reviews/shadow", headers=world.auth("viewer")).json() == []
