from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from nightshift.domain.alerts import fingerprint_of
from nightshift.domain.vocabulary import PrincipalKind, Role
from nightshift.services.alerts import AlertIntakeService, IntakePolicy
from tests.support.control_plane import World, make_world

T0 = "2026-12-02T02:00:00Z"


def am_alert(name: str, status: str = "firing", **labels: str) -> dict[str, Any]:
    all_labels = {"alertname": name, "severity": "page", "namespace": "shop", **labels}
    return {
        "status": status,
        "labels": all_labels,
        "annotations": {"summary": f"{name} on {all_labels.get('service', 'shop')}"},
        "startsAt": T0,
        "endsAt": "2026-12-02T02:10:00Z" if status == "resolved" else "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus.example/graph",
        "fingerprint": fingerprint_of(all_labels),
    }


def webhook(alerts: list[dict[str, Any]], group: str = '{}:{alertname="x"}') -> dict[str, Any]:
    return {
        "version": "4",
        "groupKey": group,
        "truncatedAlerts": 0,
        "status": "resolved" if all(a["status"] == "resolved" for a in alerts) else "firing",
        "receiver": "nightshift",
        "groupLabels": {},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.example",
        "alerts": alerts,
    }


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = make_world(
        tmp_path,
        notify_async=False,
        oncall_contact="oncall@example.org",
        alerts_max_investigations_per_minute=3,
        queue_capacity=100,
    )
    w.container.principals.create_user(
        "alertmanager", kind=PrincipalKind.SERVICE, roles=frozenset({Role.ALERT_SENDER})
    )
    w.tokens["sender"] = w.container.principals.create_token("alertmanager")
    yield w
    w.container.db.dispose()


class Clock:
    """The intake's clock, moved by the test (the service takes it as a port)."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock(world: World) -> Clock:
    c = world.container
    moved = Clock()
    c.alerts = AlertIntakeService(c.db, c.alert_routes, c.investigations, c.escalations,
                                  IntakePolicy(3), refusal=c.kill_switch.refusal,
                                  clock=moved)  # fmt: skip
    return moved


@pytest.fixture
def route(client: TestClient, world: World) -> dict[str, Any]:
    body = {
        "name": "paging",
        "matchers": ['severity=~"critical|page"', 'alertname!="Watchdog"'],
        "agent": "triage",
        "tier": "multi-domain",
        "priority": 1,
        "group_by": ["namespace"],
    }
    resp = client.post("/v1/alert-routes", json=body, headers=world.auth("lead"))
    assert resp.status_code == 201, resp.text
    return dict(resp.json())
