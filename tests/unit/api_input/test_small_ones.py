"""Smaller input defects: event-id overflow, 404 for an unknown investigation's
proposals, timestamps with an offset, clearing a model configuration."""

from __future__ import annotations

import re
import types
import typing
from datetime import datetime

from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from pydantic import BaseModel

from nightshift.api.app import create_app
from nightshift.api.timestamps import AWARE
from tests.support.control_plane import World

HUGE = "9223372036854775808"  # 2**63: one past SQLite's and PostgreSQL's bigint
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


def _submit(client: TestClient, world: World) -> str:
    resp = client.post(
        "/v1/investigations",
        json={"agent": "triage", "scenario": "two-am-cascade"},
        headers=world.auth("operator"),
    )
    assert resp.status_code == 201, resp.text
    return str(resp.json()["id"])


def test_an_event_cursor_past_64_bits_is_a_422(client: TestClient, world: World) -> None:
    inv = _submit(client, world)
    url = f"/v1/investigations/{inv}/events?follow=false"
    resp = client.get(f"{url}&after={HUGE}", headers=world.auth("viewer"))
    assert resp.status_code == 422
    assert "after" in resp.json()["message"]
    resp = client.get(url, headers={**world.auth("viewer"), "Last-Event-ID": HUGE})
    assert resp.status_code == 422
    assert "Last-Event-ID" in resp.json()["message"]
    # The largest id itself is fine, and a foreign id is ignored as before.
    for header in ("9223372036854775807", "abc", "12a"):
        resp = client.get(url, headers={**world.auth("viewer"), "Last-Event-ID": header})
        assert resp.status_code == 200, (header, resp.text)


def test_proposals_of_an_unknown_investigation_are_a_404(client: TestClient, world: World) -> None:
    resp = client.get("/v1/investigations/nope/proposals", headers=world.auth("viewer"))
    assert resp.status_code == 404


def test_response_timestamps_carry_an_offset(client: TestClient, world: World) -> None:
    inv = _submit(client, world)
    got = client.get(f"/v1/investigations/{inv}", headers=world.auth("viewer")).json()
    assert RFC3339.match(got["created_at"]), got["created_at"]
    agents = client.get("/v1/agents", headers=world.auth("viewer")).json()
    assert all(RFC3339.match(a["created_at"]) for a in agents)
    phases = client.get("/v1/agents/triage/phases", headers=world.auth("viewer")).json()
    assert phases and all(RFC3339.match(p["at"]) for p in phases)
    events = client.get(
        f"/v1/investigations/{inv}/events?follow=false", headers=world.auth("viewer")
    ).text
    stamps = re.findall(r'"at": "([^"]+)"', events)
    assert stamps and all(RFC3339.match(s) for s in stamps), stamps


def _bare_datetimes(tp: object, where: str, seen: set[object]) -> list[str]:
    """Response fields typed ``datetime`` without the shared Timestamp type."""
    if tp is datetime:
        return [where]
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        if tp in seen:
            return []
        seen.add(tp)
        found: list[str] = []
        for name, f in tp.model_fields.items():
            if f.annotation is datetime and AWARE in f.metadata:
                continue
            found += _bare_datetimes(f.annotation, f"{tp.__name__}.{name}", seen)
        return found
    if typing.get_origin(tp) is typing.Annotated:
        base, *meta = typing.get_args(tp)
        return [] if AWARE in meta else _bare_datetimes(base, where, seen)
    args = typing.get_args(tp) if typing.get_origin(tp) or isinstance(tp, types.UnionType) else ()
    return [hit for a in args for hit in _bare_datetimes(a, where, seen)]


def _api_routes(routes: typing.Iterable[object]) -> typing.Iterator[APIRoute]:
    """Every API route, also those of included routers (FastAPI keeps them nested)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from _api_routes(included.routes)


def test_every_response_datetime_uses_the_timestamp_type(world: World) -> None:
    app = create_app(world.container, background=False).app.app  # type: ignore[attr-defined]
    routes = list(_api_routes(app.routes))
    assert any(r.path == "/v1/alerts" for r in routes), "the walk must reach included routers"
    seen: set[object] = set()
    bare = [
        hit
        for route in routes
        if route.response_model is not None
        for hit in _bare_datetimes(route.response_model, route.path, seen)
    ]
    assert bare == [], f"use nightshift.api.timestamps.Timestamp for: {bare}"


def test_a_model_configuration_can_be_cleared(client: TestClient, world: World) -> None:
    config = {"provider": "openai", "model": "m", "base_url": "http://127.0.0.1:9/v1"}
    url = "/v1/agents/triage/llm"
    resp = client.put(url, json=config, headers=world.auth("lead"))
    assert resp.status_code == 204, resp.text
    assert world.container.stewardship.llm_config("triage") is not None
    resp = client.put(url, headers=world.auth("lead"))  # no body, as the CLI sends
    assert resp.status_code == 204, resp.text
    assert world.container.stewardship.llm_config("triage") is None
