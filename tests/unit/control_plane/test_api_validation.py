"""Bad input gets a clear 4xx and changes nothing."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.support.control_plane import World

SUBMIT = {"agent": "triage", "title": "checkout latency above SLO"}


def _count(client: TestClient, world: World) -> int:
    page = client.get("/v1/investigations", headers=world.auth("viewer")).json()
    return len(page["items"])


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**SUBMIT, "tier": "galactic"}, "tier"),
        ({**SUBMIT, "priority": "high"}, "priority"),
        ({**SUBMIT, "priority": 9}, "priority"),
        ({**SUBMIT, "domains": ["network", "astrology"]}, "domains"),
        ({**SUBMIT, "namespace": "Not_A_Namespace"}, "namespace"),
        ({**SUBMIT, "title": ""}, "title"),
        ({**SUBMIT, "title": "x" * 600}, "title"),
        ({**SUBMIT, "surprise": 1}, "surprise"),
        ({**SUBMIT, "alert": {"bad key!": "v"}}, "alert"),
        ({"title": "no agent"}, "agent"),
    ],
)
def test_invalid_submissions_get_422_naming_the_field(
    client: TestClient, world: World, body: dict[str, object], field: str
) -> None:
    resp = client.post("/v1/investigations", json=body, headers=world.auth("operator"))
    assert resp.status_code == 422
    payload = resp.json()
    assert payload["error"] == "invalid_request"
    assert field in payload["message"]
    assert _count(client, world) == 0


def test_malformed_json_is_a_422_not_a_500(client: TestClient, world: World) -> None:
    resp = client.post(
        "/v1/investigations",
        content=b'{"agent": "triage", "title": ',
        headers={**world.auth("operator"), "content-type": "application/json"},
    )
    assert resp.status_code == 422
    assert _count(client, world) == 0


def test_an_oversize_body_is_refused_with_413(client: TestClient, world: World) -> None:
    huge = {**SUBMIT, "alert": {"blob": "x" * 2000}, "padding": "y" * 400_000}
    resp = client.post("/v1/investigations", json=huge, headers=world.auth("operator"))
    assert resp.status_code == 413
    assert _count(client, world) == 0


def test_sql_and_unicode_in_text_are_data(client: TestClient, world: World) -> None:
    title = "'; DROP TABLE investigations; -- 🔥 ünïcödé \u202e"
    resp = client.post(
        "/v1/investigations", json={**SUBMIT, "title": title}, headers=world.auth("operator")
    )
    assert resp.status_code == 201
    got = client.get(f"/v1/investigations/{resp.json()['id']}", headers=world.auth("viewer"))
    assert got.json()["title"] == title.strip()


def test_an_unknown_agent_is_a_404(client: TestClient, world: World) -> None:
    resp = client.post(
        "/v1/investigations", json={**SUBMIT, "agent": "ghost"}, headers=world.auth("operator")
    )
    assert resp.status_code == 404
    assert "ghost" in resp.json()["message"]


def test_unknown_ids_are_404(client: TestClient, world: World) -> None:
    for path in ["/v1/investigations/nope", "/v1/investigations/nope/events",
                 "/v1/investigations/nope/logs", "/v1/agents/nope"]:  # fmt: skip
        assert client.get(path, headers=world.auth("viewer")).status_code == 404, path
    resp = client.post("/v1/investigations/nope/cancel", headers=world.auth("operator"))
    assert resp.status_code == 404


def test_bad_list_filters_are_422(client: TestClient, world: World) -> None:
    for query in ["status=exploded", "limit=0", "limit=100000", "cursor=zz;drop"]:
        resp = client.get(f"/v1/investigations?{query}", headers=world.auth("viewer"))
        assert resp.status_code == 422, query


def test_registering_an_agent_above_its_class_ceiling_is_refused(
    client: TestClient, world: World
) -> None:
    body = {"name": "bold", "owner": "lead", "authority_class": "advisory",
            "trust_phase": "autonomous-l1"}  # fmt: skip
    resp = client.post("/v1/agents", json=body, headers=world.auth("lead"))
    assert resp.status_code == 422
    assert "ceiling" in resp.json()["message"]
    assert client.get("/v1/agents/bold", headers=world.auth("viewer")).status_code == 404


def test_a_service_principal_cannot_own_an_agent(client: TestClient, world: World) -> None:
    from nightshift.domain.vocabulary import PrincipalKind, Role

    world.container.principals.create_user(
        "ci-bot", kind=PrincipalKind.SERVICE, roles=frozenset({Role.VIEWER})
    )
    body = {"name": "botbot", "owner": "ci-bot", "authority_class": "advisory"}
    resp = client.post("/v1/agents", json=body, headers=world.auth("lead"))
    assert resp.status_code == 422
    assert "human" in resp.json()["message"]
