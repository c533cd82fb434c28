"""PUT /v1/agents/{name}/thresholds: strict fields, partial updates merged
onto what is stored, errors that name the field."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support.control_plane import World

URL = "/v1/agents/triage/thresholds"


def _put(client: TestClient, world: World, body: Any) -> Any:
    return client.put(URL, json=body, headers=world.auth("lead"))


def _get(client: TestClient, world: World) -> dict[str, Any]:
    resp = client.get(URL, headers=world.auth("viewer"))
    assert resp.status_code == 200, resp.text
    return dict(resp.json())


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"auto_execute_confidenc": 0.9}, "auto_execute_confidenc"),
        ({"to_limited": {"min_sampel": 5}}, "to_limited.min_sampel"),
        ({"to_limited": {"min_sample": "many"}}, "to_limited.min_sample must be an integer"),
        ({"to_limited": {"min_sample": 1.5}}, "to_limited.min_sample must be an integer"),
        ({"to_limited": {"min_sample": True}}, "to_limited.min_sample must be an integer"),
        ({"to_limited": {"min_sample": None}}, "to_limited.min_sample may not be null"),
        ({"to_assist": {"min_success_rate": 1.5}}, "to_assist.min_success_rate must be within"),
        ({"auto_execute_confidence": "high"}, "auto_execute_confidence must be a number"),
        ({"demotion": {"window_days": -3}}, "demotion.window_days must not be negative"),
        ({"demotion": {"bogus": 1}}, "demotion.bogus"),
        ({"to_autonomous": {"signoff_roles": ["pope"]}}, "to_autonomous.signoff_roles"),
        ({"to_assist": 5}, "to_assist must be a JSON object"),
    ],
)
def test_bad_thresholds_are_a_422_naming_the_field_and_change_nothing(
    client: TestClient, world: World, body: dict[str, Any], named: str
) -> None:
    before = _get(client, world)
    resp = _put(client, world, body)
    assert resp.status_code == 422, resp.text
    message = resp.json()["message"]
    assert named in message
    assert "__init__" not in message and "keyword argument" not in message
    assert _get(client, world) == before
    # The agent's gates still evaluate (nothing broken was stored).
    assert client.get("/v1/agents/triage/gates", headers=world.auth("viewer")).status_code == 200


def test_a_put_changes_only_what_it_names(client: TestClient, world: World) -> None:
    seed = _get(client, world)
    assert _put(client, world, {"auto_execute_confidence": 0.9}).status_code == 204
    assert _put(client, world, {"to_limited": {"min_sample": 7}}).status_code == 204
    got = _get(client, world)
    assert got["auto_execute_confidence"] == 0.9  # kept across the second write
    assert got["to_limited"]["min_sample"] == 7
    # the rest of the section keeps its stored value
    assert got["to_limited"]["min_success_rate"] == seed["to_limited"]["min_success_rate"]
    assert got["to_assist"] == seed["to_assist"]
    assert got["demotion"] == seed["demotion"]


def test_null_switches_off_an_optional_gate(client: TestClient, world: World) -> None:
    assert _put(client, world, {"to_assist": {"max_unsafe_attempts": None}}).status_code == 204
    assert _get(client, world)["to_assist"]["max_unsafe_attempts"] is None


def test_an_unknown_agent_is_a_404(client: TestClient, world: World) -> None:
    resp = client.put("/v1/agents/ghost/thresholds", json={}, headers=world.auth("lead"))
    assert resp.status_code == 404
