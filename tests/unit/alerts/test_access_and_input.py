"""Who may send and read alerts, and what bad webhooks get (nothing half-stored)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from nightshift.domain.vocabulary import PrincipalKind, Role
from nightshift.services.errors import Invalid
from nightshift.store.tables import AlertGroupRow, AlertRow, InvestigationRow
from tests.support.control_plane import World
from tests.unit.alerts.conftest import am_alert, webhook

AM = "/v1/alerts/alertmanager"


def _stored(world: World) -> tuple[int, int, int]:
    with world.container.db.read() as s:
        return tuple(  # type: ignore[return-value]
            int(s.scalar(select(func.count()).select_from(t)) or 0)
            for t in (AlertRow, AlertGroupRow, InvestigationRow)
        )


def test_an_alert_sender_can_post_alerts_but_not_submit_or_read(
    client: TestClient, world: World, route: dict[str, Any]
) -> None:
    sender = world.auth("sender")
    assert client.post(AM, json=webhook([am_alert("A")]), headers=sender).status_code == 200
    submit = {"agent": "triage", "title": "let me in"}
    assert client.post("/v1/investigations", json=submit, headers=sender).status_code == 403
    for path in ["/v1/investigations", "/v1/alerts", "/v1/alert-routes", "/v1/escalations"]:
        assert client.get(path, headers=sender).status_code == 403, path


def test_viewers_and_operators_cannot_send_alerts_or_change_routes(
    client: TestClient, world: World, route: dict[str, Any]
) -> None:
    for who in ("viewer", "operator"):
        resp = client.post(AM, json=webhook([am_alert("A")]), headers=world.auth(who))
        assert resp.status_code == 403 and "alert-sender" in resp.json()["message"]
    body = {"name": "x", "agent": "triage"}
    assert client.post("/v1/alert-routes", json=body,
                       headers=world.auth("operator")).status_code == 403  # fmt: skip
    assert client.get("/v1/alert-routes", headers=world.auth("viewer")).status_code == 200


def test_alert_sender_is_a_service_role_held_alone(world: World) -> None:
    p = world.container.principals
    for kind, roles in [
        (PrincipalKind.HUMAN, {Role.ALERT_SENDER}),
        (PrincipalKind.SERVICE, {Role.ALERT_SENDER, Role.VIEWER}),
    ]:
        with pytest.raises(Invalid, match="alert-sender"):
            p.create_user("am2", kind=kind, roles=frozenset(roles), contact="x@example.org")


def test_an_unauthenticated_webhook_is_refused_and_stores_nothing(
    client: TestClient, world: World, route: dict[str, Any]
) -> None:
    for headers in [{}, {"Authorization": "Bearer nsh_forged"}]:
        resp = client.post(AM, json=webhook([am_alert("A")]), headers=headers)
        assert resp.status_code == 401
    assert _stored(world) == (0, 0, 0)


def test_malformed_webhooks_get_422_and_store_nothing(
    client: TestClient, world: World, route: dict[str, Any]
) -> None:
    good = am_alert("A")
    broken: list[Any] = [
        {**webhook([good]), "version": "3"},
        {k: v for k, v in webhook([good]).items() if k != "groupKey"},
        webhook([good, {**am_alert("B"), "startsAt": "yesterday"}]),  # one bad alert: none kept
        webhook([good, {**am_alert("C"), "status": "flapping"}]),
        webhook([good, {**am_alert("D"), "labels": {"bad label": "x"}}]),
        webhook([good, {k: v for k, v in am_alert("E").items() if k != "fingerprint"}]),
        webhook([]),
        [good],
    ]
    for body in broken:
        resp = client.post(AM, json=body, headers=world.auth("sender"))
        assert resp.status_code == 422, (body, resp.text)
    resp = client.post(
        AM,
        content=b"{not json",
        headers={**world.auth("sender"), "content-type": "application/json"},
    )
    assert resp.status_code == 422
    assert _stored(world) == (0, 0, 0)


def test_an_oversize_webhook_gets_413_and_stores_nothing(
    client: TestClient, world: World, route: dict[str, Any]
) -> None:
    limit = world.container.settings.max_body_bytes
    alerts = [am_alert("A", service=f"s{i}", padding="x" * 2000) for i in range(200)]
    body = json.dumps(webhook(alerts)).encode()
    assert len(body) > limit
    resp = client.post(AM, content=body, headers={**world.auth("sender"),
                                                  "content-type": "application/json"})  # fmt: skip
    assert resp.status_code == 413
    assert _stored(world) == (0, 0, 0)


def test_routes_are_validated_listed_replaced_and_deleted(
    client: TestClient, world: World, route: dict[str, Any]
) -> None:
    lead = world.auth("lead")
    bad = [
        {"name": "bad", "agent": "triage", "matchers": ['severity="page']},
        {"name": "bad", "agent": "nobody"},
        {"name": "Bad Name", "agent": "triage"},
        {"name": "bad", "agent": "triage", "group_by": ["not a label"]},
    ]
    for body in bad:
        assert client.post("/v1/alert-routes", json=body, headers=lead).status_code == 422, body
    dup = client.post("/v1/alert-routes", json={"name": "paging", "agent": "triage"}, headers=lead)
    assert dup.status_code == 409
    changed = {**{k: route[k] for k in ("name", "agent", "tier", "priority")},
               "matchers": ['{severity="critical"}'], "enabled": False}  # fmt: skip
    resp = client.put("/v1/alert-routes/paging", json=changed, headers=lead)
    assert resp.status_code == 200 and resp.json()["enabled"] is False
    assert client.get("/v1/alert-routes/paging", headers=lead).json()["matchers"] == [
        '{severity="critical"}'
    ]
    out = client.post(AM, json=webhook([am_alert("A", severity="critical")]),
                      headers=world.auth("sender")).json()  # fmt: skip
    assert out["started"] == []  # a disabled rule routes nothing
    assert client.delete("/v1/alert-routes/paging", headers=lead).status_code == 204
    assert client.get("/v1/alert-routes", headers=lead).json() == []
    assert client.delete("/v1/alert-routes/paging", headers=lead).status_code == 404
