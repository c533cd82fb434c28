"""Storm control and the kill switch: alerts are always stored; past the limits
nothing more starts, and one escalation (not one per alert) says so."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from nightshift.notifications.fake import FakeNotifier
from nightshift.store.tables import AlertRow, EscalationRow, InvestigationRow
from tests.support.control_plane import World
from tests.unit.alerts.conftest import Clock, am_alert, webhook

AM = "/v1/alerts/alertmanager"


def _count(world: World, table: type[Any], **where: str) -> int:
    q = select(func.count()).select_from(table)
    for k, v in where.items():
        q = q.where(getattr(table, k) == v)
    with world.container.db.read() as s:
        return int(s.scalar(q) or 0)


def _storm(client: TestClient, world: World, groups: int, per_group: int = 10) -> list[Any]:
    outs = []
    for g in range(groups):
        alerts = [am_alert(f"Alert{g}", service=f"s{i}") for i in range(per_group)]
        resp = client.post(AM, json=webhook(alerts, group=f"g{g}"), headers=world.auth("sender"))
        assert resp.status_code == 200
        outs.append(resp.json())
    return outs


def test_past_the_global_limit_alerts_are_stored_and_one_escalation_says_so(
    client: TestClient, world: World, route: dict[str, Any], notifier: FakeNotifier
) -> None:
    outs = _storm(client, world, groups=30)  # the fixture allows 3 per minute
    assert sum(len(o["started"]) for o in outs) == 3
    assert sum(o["pending"] for o in outs) == 27
    assert _count(world, AlertRow) == 300  # nothing dropped
    assert _count(world, InvestigationRow) == 3
    assert _count(world, EscalationRow, kind="alerts_saturated") == 1
    (notice,) = [n for n in notifier.sent if n.kind == "alerts_saturated"]
    assert "saturated" in notice.summary and "global limit 3" in notice.summary


def test_a_rules_own_limit_holds_back_its_groups_before_the_global_one(
    client: TestClient, world: World, route: dict[str, Any]
) -> None:
    body = {**{k: route[k] for k in ("name", "agent", "matchers")}, "max_per_minute": 1}
    assert client.put("/v1/alert-routes/paging", json=body,
                      headers=world.auth("lead")).status_code == 200  # fmt: skip
    outs = _storm(client, world, groups=4, per_group=2)
    assert sum(len(o["started"]) for o in outs) == 1
    with world.container.db.read() as s:
        esc = s.scalar(select(EscalationRow).where(EscalationRow.kind == "alerts_saturated"))
        assert esc is not None and "rule limit 1" in esc.summary


def test_a_held_group_starts_on_its_next_notification_once_under_the_limit(
    client: TestClient, world: World, route: dict[str, Any], clock: Clock
) -> None:
    outs = _storm(client, world, groups=4, per_group=1)
    assert [len(o["started"]) for o in outs] == [1, 1, 1, 0]
    clock.advance(120)
    replay = client.post(AM, json=webhook([am_alert("Alert3", service="s0")], group="g3"),
                         headers=world.auth("sender")).json()  # fmt: skip
    assert len(replay["started"]) == 1


def test_alerts_during_a_kill_switch_are_stored_and_start_nothing_until_released(
    client: TestClient, world: World, route: dict[str, Any]
) -> None:
    lead = world.container.principals.authenticate(world.tokens["lead"])
    assert lead is not None
    world.container.kill_switch.engage(None, lead, "freeze during the incident review")
    body = webhook([am_alert("A"), am_alert("B")], group="k")
    out = client.post(AM, json=body, headers=world.auth("sender")).json()
    assert out["started"] == [] and out["created"] == 2 and out["pending"] == 1
    assert _count(world, InvestigationRow) == 0
    world.container.kill_switch.release(None, lead, "review done")
    assert _count(world, InvestigationRow) == 0  # release alone starts nothing
    again = client.post(AM, json=body, headers=world.auth("sender")).json()
    assert len(again["started"]) == 1  # the group's next notification does


def test_escalations_of_an_alert_investigation_carry_the_alert_labels(
    client: TestClient, world: World, route: dict[str, Any], notifier: FakeNotifier
) -> None:
    out = client.post(AM, json=webhook([am_alert("CheckoutDown")]),
                      headers=world.auth("sender")).json()  # fmt: skip
    inv_id = out["started"][0]
    world.container.dispatcher.dispatch_once()
    launch = next(x for x in world.executor.launches if x.investigation_id == inv_id)
    worker = {"Authorization": f"Bearer {launch.token}"}
    client.post(f"/v1/investigations/{inv_id}/worker/events",
                json={"events": [{"kind": "log", "data": {}}]}, headers=worker)  # fmt: skip
    resp = client.post(f"/v1/investigations/{inv_id}/worker/result",
                       json={"status": "escalated", "reason": "breaker: tool calls"},
                       headers=worker)  # fmt: skip
    assert resp.status_code == 200, resp.text
    (notice,) = [n for n in notifier.sent if n.investigation_id == inv_id]
    assert notice.details["alert_labels"]["alertname"] == "CheckoutDown"
    esc = client.get("/v1/escalations", headers=world.auth("viewer")).json()
    assert esc[0]["payload"]["alert_labels"]["namespace"] == "shop"


class _DiesOnce:
    """The investigation service, except that the first submission dies the way a
    control-plane crash between the intake commit and the submission would."""

    def __init__(self, real: Any) -> None:
        self.real, self.dead = real, False

    def submit(self, req: Any, caller: Any) -> Any:
        if not self.dead:
            self.dead = True
            raise RuntimeError("control plane killed")
        return self.real.submit(req, caller)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


def test_a_retry_after_a_crash_between_commit_and_submission_starts_it_once(
    world: World, route: dict[str, Any], clock: Clock
) -> None:
    from nightshift.api.app import create_app
    from nightshift.services.alerts import AlertIntakeService, IntakePolicy

    c = world.container
    c.alerts = AlertIntakeService(c.db, c.alert_routes, _DiesOnce(c.investigations),  # type: ignore[arg-type]
                                  c.escalations, IntakePolicy(3), clock=clock)  # fmt: skip
    body = webhook([am_alert("A"), am_alert("B")], group="crash")
    app = create_app(c, background=False)
    with TestClient(app, raise_server_exceptions=False) as client:  # type: ignore[arg-type]
        assert client.post(AM, json=body, headers=world.auth("sender")).status_code == 500
        assert _count(world, AlertRow) == 2  # the alerts were committed before the crash
        retry = client.post(AM, json=body, headers=world.auth("sender")).json()
        assert retry["started"] == []  # the claim is fresh: another replica may be submitting
        clock.advance(31)
        retry = client.post(AM, json=body, headers=world.auth("sender")).json()
        assert len(retry["started"]) == 1
        for _ in range(3):
            assert client.post(AM, json=body, headers=world.auth("sender")).json()["started"] == []
    assert _count(world, InvestigationRow) == 1
