"""Request bodies are strict JSON: no NaN/Infinity, no overflow to inf, no
repeated keys. Refused once, before any route, with a 422 naming the place."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from nightshift.api.strict_json import problems
from tests.support.control_plane import World

JSON = {"content-type": "application/json"}


def _put_thresholds(client: TestClient, world: World, raw: bytes) -> dict[str, object]:
    resp = client.put(
        "/v1/agents/triage/thresholds", content=raw, headers={**world.auth("lead"), **JSON}
    )
    assert resp.status_code == 422, resp.text
    return dict(resp.json())


@pytest.mark.parametrize(
    ("raw", "field", "word"),
    [
        (b'{"auto_execute_confidence": NaN}', "body.auto_execute_confidence", "NaN"),
        (b'{"auto_execute_confidence": Infinity}', "body.auto_execute_confidence", "Infinity"),
        (b'{"to_limited": {"min_success_rate": -Infinity}}', "body.to_limited.min_success_rate",
         "-Infinity"),
        (b'{"auto_execute_confidence": 1e999}', "body.auto_execute_confidence", "1e999"),
        (b'{"zzz": [1, NaN]}', "body.zzz.1", "NaN"),
    ],
)  # fmt: skip
def test_non_finite_numbers_are_a_422_naming_the_field(
    client: TestClient, world: World, raw: bytes, field: str, word: str
) -> None:
    body = _put_thresholds(client, world, raw)
    assert body["error"] == "invalid_json"
    assert f"{field}: {word} is not a finite JSON number" in str(body["message"])
    assert body["details"] == [{"field": field, "problem": f"{word} is not a finite JSON number"}]


def test_nan_in_approval_params_is_refused_before_the_route(
    client: TestClient, world: World
) -> None:
    resp = client.post(
        "/v1/approvals/nope/approve",
        content=b'{"reason": "x", "params": {"replicas": NaN}}',
        headers={**world.auth("operator"), **JSON},
    )
    assert resp.status_code == 422
    assert "body.params.replicas" in resp.json()["message"]


def test_a_duplicate_key_cannot_create_an_admin(client: TestClient, world: World) -> None:
    raw = (b'{"name": "mallory", "kind": "human", "contact": "m@example.org",'
           b' "roles": ["viewer"], "roles": ["admin"]}')  # fmt: skip
    resp = client.post("/v1/users", content=raw, headers={**world.auth("admin"), **JSON})
    assert resp.status_code == 422
    assert resp.json()["details"] == [{"field": "body.roles", "problem": "duplicate key 'roles'"}]
    names = {u.name for u in world.container.principals.list_users()}
    assert "mallory" not in names


def test_a_nested_duplicate_key_is_named_by_its_path(client: TestClient, world: World) -> None:
    body = _put_thresholds(client, world, b'{"to_limited": {"min_sample": 1, "min_sample": 2}}')
    assert body["details"] == [
        {"field": "body.to_limited.min_sample", "problem": "duplicate key 'min_sample'"}
    ]


def test_a_body_without_content_type_is_checked_too(client: TestClient, world: World) -> None:
    # FastAPI parses a body with no content type as JSON, so it must be checked.
    resp = client.put(
        "/v1/agents/triage/thresholds", content=b'{"x": NaN}', headers=world.auth("lead")
    )
    assert resp.status_code == 422
    assert resp.json()["error"] == "invalid_json"


def test_ordinary_json_passes_unchanged(client: TestClient, world: World) -> None:
    resp = client.post(
        "/v1/investigations",
        content=b'{"agent": "triage", "scenario": "two-am-cascade", "title": "1.5e3 ms",'
        b' "priority": 1}',
        headers={**world.auth("operator"), **JSON},
    )
    assert resp.status_code == 201, resp.text


def test_the_checker_leaves_syntax_errors_to_fastapi() -> None:
    assert problems(b'{"a": ') is None
    assert problems(b'{"a": 1e308, "b": [-0.0, 12345678901234567890]}') == []


@pytest.mark.parametrize(
    "literal",
    ["1.7976931348623157e308", "1.8e308", "1e309", "-1e309", "1E+0309", "1.5e99", "1e-999",
     "9" * 199 + ".9e99", "9" * 200 + ".0", "9" * 309 + ".0", "9" * 308 + ".5",
     "0." + "0" * 400 + "1"],
)  # fmt: skip
def test_a_float_is_refused_exactly_when_it_overflows_a_double(literal: str) -> None:
    """Floats are only checked one by one when the body could hold an overflow: the
    shortcut must not let one through, wherever the boundary falls."""
    import math

    found = problems(b'{"x": %s}' % literal.encode())
    assert (found != []) is not math.isfinite(float(literal)), (literal, found)
