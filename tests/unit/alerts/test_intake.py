"""Alert intake: storing, grouping, deduplication, replays, resolution."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from nightshift.notifications.protocol import EscalationNotice, slack_payload
from nightshift.services.alerts import AlertIntakeService, IntakePolicy
from nightshift.store.tables import AlertRow, InvestigationEventRow, InvestigationRow
from tests.support.control_plane import World
from tests.unit.alerts.conftest import Clock, am_alert, webhook

AM = "/v1/alerts/alertmanager"


def _count(world: World, table: type[Any]) -> int:
    with world.container.db.read() as s:
        return int(s.scalar(select(func.count()).select_from(table)) or 0)


def _post(client: TestClient, world: World, body: Any, path: str = AM) -> dict[str, Any]:
    resp = client.post(path, json=body, headers=world.auth("sender"))
    assert resp.status_code == 200, resp.text
    return dict(resp.json())


def test_a_group_of_many_alerts_starts_one_investigation(
    client: TestClient, world: World, route: dict[str, Any]
) -> None:
    alerts = [am_alert("CheckoutLatencyHigh", service=f"svc-{i}") for i in range(40)]
    out = _post(client, world, webhook(alerts))
    assert out["received"] == 40 and out["created"] == 40
    assert len(out["started"]) == 1
    inv = client.get(f"/v1/investigations/{out['started'][0]}", headers=world.auth("viewer"))
    view = inv.json()
    assert view["title"].startswith("CheckoutLatencyHigh: CheckoutLatencyHigh on svc-")
    assert view["tier"] == "multi-domain" and view["priority"] == 1
    listed = client.get(f"/v1/investigations/{view['id']}/alerts", headers=world.auth("viewer"))
    assert len(listed.json()) == 40
    with world.container.db.read() as s:
        row = s.get(InvestigationRow, view["id"])
        assert row is not None
        # The common labels become the spec's alert; the namespace label its namespace.
        assert row.spec["alert"] == {"alertname": "CheckoutLatencyHigh", "namespace": "shop",
                                     "severity": "page"}  # fmt: skip
        assert row.spec["namespace"] == "shop"
        assert row.spec["origin"]["kind"] == "alerts"
        assert row.spec["origin"]["rule"] == "paging"


def test_an_open_investigation_absorbs_later_alerts_of_its_group(
    client: TestClient, world: World, route: dict[str, Any]
) -> None:
    first = _post(client, world, webhook([am_alert("CheckoutLatencyHigh")], group="g1"))
    later = _post(client, world, webhook([am_alert("PgBouncerWaiting")], group="g1"))
    assert len(first["started"]) == 1 and later["started"] == []
    inv_id = first["started"][0]
    names = {a["labels"]["alertname"] for a in client.get(
        f"/v1/investigations/{inv_id}/alerts", headers=world.auth("viewer")).json()}  # fmt: skip
    assert names == {"CheckoutLatencyHigh", "PgBouncerWaiting"}
    assert _count(world, InvestigationRow) == 1


def test_without_a_sender_group_key_the_rules_group_by_labels_group(
    client: TestClient, world: World, route: dict[str, Any]
) -> None:
    shop = [am_alert("A", namespace="shop"), am_alert("B", namespace="shop")]
    other = [am_alert("C", namespace="billing")]
    out = _post(client, world, {"alerts": shop + other}, path="/v1/alerts")
    assert len(out["started"]) == 2  # one per namespace (the rule groups by namespace)
    again = _post(client, world, [am_alert("D", namespace="shop")], path="/v1/alerts")
    assert again["started"] == []


def test_a_repeated_fingerprint_only_updates_the_stored_alert(
    client: TestClient, world: World, route: dict[str, Any]
) -> None:
    alert = am_alert("CheckoutLatencyHigh")
    _post(client, world, webhook([alert]))
    alert["annotations"] = {"summary": "now worse"}
    out = _post(client, world, webhook([alert]))
    assert (out["created"], out["updated"], out["started"]) == (0, 1, [])
    stored = client.get(f"/v1/alerts/{alert['fingerprint']}", headers=world.auth("viewer")).json()
    assert stored["received_count"] == 2
    assert stored["annotations"] == {"summary": "now worse"}
    assert _count(world, AlertRow) == 1


def test_a_webhook_replayed_100_times_starts_nothing_new(
    client: TestClient, world: World, route: dict[str, Any]
) -> None:
    body = webhook([am_alert("CheckoutLatencyHigh", service=f"s{i}") for i in range(5)])
    first = _post(client, world, body)
    inv_id = first["started"][0]
    world.container.investigations.terminate(inv_id, _status("cancelled"), "done")
    for _ in range(100):  # also after its investigation ended: same alerts, same key
        assert _post(client, world, body)["started"] == []
    assert _count(world, InvestigationRow) == 1
    assert _count(world, AlertRow) == 5
    stored = client.get("/v1/alerts", headers=world.auth("viewer")).json()
    assert {a["received_count"] for a in stored} == {101}


def test_an_alert_matching_no_rule_is_stored_and_starts_nothing(
    client: TestClient, world: World, route: dict[str, Any]
) -> None:
    out = _post(client, world, webhook([am_alert("Watchdog"), am_alert("Disk", severity="info")]))
    assert out["started"] == [] and out["created"] == 2
    assert _count(world, InvestigationRow) == 0
    assert len(client.get("/v1/alerts", headers=world.auth("viewer")).json()) == 2


def test_a_resolved_notification_updates_the_stored_alerts_and_is_recorded_once(
    client: TestClient, world: World, route: dict[str, Any]
) -> None:
    alerts = [am_alert("A"), am_alert("B")]
    inv_id = _post(client, world, webhook(alerts))["started"][0]
    _post(client, world, webhook([am_alert("A", status="resolved")]))
    assert _events(world, inv_id, "alerts_resolved") == []  # B still fires
    resolved = [am_alert("A", status="resolved"), am_alert("B", status="resolved")]
    _post(client, world, webhook(resolved))
    _post(client, world, webhook(resolved))  # a replay records nothing twice
    (event,) = _events(world, inv_id, "alerts_resolved")
    assert "all 2 alerts" in event["reason"]
    stored = client.get("/v1/alerts?status=resolved", headers=world.auth("viewer")).json()
    assert len(stored) == 2 and all(a["ends_at"] for a in stored)
    # Ending early is off by default: the investigation goes on.
    assert client.get(f"/v1/investigations/{inv_id}",
                      headers=world.auth("viewer")).json()["status"] == "queued"  # fmt: skip


def test_a_stale_firing_replay_does_not_reopen_a_resolved_alert(
    client: TestClient, world: World, route: dict[str, Any]
) -> None:
    _post(client, world, webhook([am_alert("A")]))
    _post(client, world, webhook([am_alert("A", status="resolved")]))
    _post(client, world, webhook([am_alert("A")]))  # the same startsAt: an old delivery
    (stored,) = client.get("/v1/alerts", headers=world.auth("viewer")).json()
    assert stored["status"] == "resolved"


def test_after_its_investigation_ended_a_group_absorbs_alerts_for_its_window(
    client: TestClient, world: World, route: dict[str, Any], clock: Clock
) -> None:
    first = _post(client, world, webhook([am_alert("A")]))["started"][0]
    world.container.investigations.terminate(first, _status("cancelled"), "done")
    clock.advance(route["group_window_seconds"] - 1)
    assert _post(client, world, webhook([am_alert("B")]))["started"] == []
    clock.advance(route["group_window_seconds"] + 1)
    assert len(_post(client, world, webhook([am_alert("C")]))["started"]) == 1


def test_a_resolved_alert_that_fires_again_later_can_start_a_new_investigation(
    client: TestClient, world: World, route: dict[str, Any], clock: Clock
) -> None:
    first = _post(client, world, webhook([am_alert("A")]))["started"][0]
    _post(client, world, webhook([am_alert("A", status="resolved")]))
    world.container.investigations.terminate(first, _status("cancelled"), "done")
    clock.advance(route["group_window_seconds"] + 1)
    again = am_alert("A")
    again["startsAt"] = "2026-12-02T03:00:00Z"
    out = _post(client, world, webhook([again]))
    assert len(out["started"]) == 1 and out["started"][0] != first


def test_the_worker_sees_every_alert_of_its_group_and_nobody_elses(
    client: TestClient, world: World, route: dict[str, Any]
) -> None:
    inv_id = _post(client, world, webhook([am_alert("A"), am_alert("B")], group="w"))["started"][0]
    other = _post(client, world, webhook([am_alert("C")], group="other"))["started"][0]
    world.container.dispatcher.dispatch_once()
    tokens = {x.investigation_id: x.token for x in world.executor.launches}
    mine = {"Authorization": f"Bearer {tokens[inv_id]}"}
    resp = client.get(f"/v1/investigations/{inv_id}/worker/alerts", headers=mine)
    assert resp.status_code == 200
    alerts = resp.json()["alerts"]
    assert {a["labels"]["alertname"] for a in alerts} == {"A", "B"}
    assert set(alerts[0]) == {"fingerprint", "status", "labels", "annotations", "starts_at",
                              "ends_at", "received_count"}  # fmt: skip
    assert client.get(f"/v1/investigations/{other}/worker/alerts", headers=mine).status_code == 403
    viewer = client.get(f"/v1/investigations/{inv_id}/worker/alerts", headers=world.auth("viewer"))
    assert viewer.status_code == 403


def _events(world: World, inv_id: str, kind: str) -> list[dict[str, Any]]:
    with world.container.db.read() as s:
        rows = s.scalars(
            select(InvestigationEventRow).where(
                InvestigationEventRow.investigation_id == inv_id, InvestigationEventRow.kind == kind
            )
        )
        return [dict(r.data) for r in rows]  # fmt: skip


def _status(value: str) -> Any:
    from nightshift.domain.vocabulary import InvestigationStatus

    return InvestigationStatus(value)


def test_with_cancel_on_resolve_an_investigation_ends_when_its_alerts_resolve(
    client: TestClient, world: World, route: dict[str, Any]
) -> None:
    c = world.container
    c.alerts = AlertIntakeService(c.db, c.alert_routes, c.investigations, c.escalations,
                                  IntakePolicy(3, cancel_on_resolve=True))  # fmt: skip
    inv_id = _post(client, world, webhook([am_alert("A")]))["started"][0]
    _post(client, world, webhook([am_alert("A", status="resolved")]))
    view = client.get(f"/v1/investigations/{inv_id}", headers=world.auth("viewer")).json()
    assert view["status"] == "cancelled"
    assert "all alerts resolved" in view["reason"]
    assert len(_events(world, inv_id, "alerts_resolved")) == 1


def test_the_slack_message_of_an_alert_escalation_names_the_alert_labels() -> None:
    notice = EscalationNotice(escalation_id="e1", kind="breaker", agent="triage",
                              summary="escalated", routed_to=("oncall@example.org",),
                              details={"alert_labels": {"alertname": "CheckoutDown",
                                                        "namespace": "shop"}})  # fmt: skip
    text = json.dumps(slack_payload(notice))
    assert "alertname=CheckoutDown, namespace=shop" in text
