"""Alert intake end to end: a real ``nightshift up``, real worker processes, and a
real Prometheus Alertmanager delivering its webhook with a bearer token."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from tests.integration.alerts.conftest import AlertPlane
from tests.support import alertmanager
from tests.support.server import TERMINAL

pytestmark = pytest.mark.slow
AM = "/v1/alerts/alertmanager"


def _alert(i: int, name: str = "CheckoutLatencyHigh", status: str = "firing") -> dict[str, Any]:
    return {
        "status": status,
        "labels": {
            "alertname": name,
            "severity": "page",
            "namespace": "shop",
            "pod": f"checkout-{i}",
        },
        "annotations": {"summary": "checkout p99 above 2s"},
        "startsAt": "2026-12-02T02:00:00Z",
        "endsAt": "2026-12-02T02:30:00Z" if status == "resolved" else "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus.test/graph",
        "fingerprint": f"{i:016x}",
    }


def _webhook(alerts: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "version": "4",
        "groupKey": '{}:{namespace="shop"}',
        "truncatedAlerts": 0,
        "status": "firing",
        "receiver": "nightshift",
        "groupLabels": {"namespace": "shop"},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://am.test",
        "alerts": alerts,
    }


def _cli(plane: AlertPlane, *args: str) -> str:
    env = {
        **os.environ,
        "NIGHTSHIFT_API_URL": plane.url,
        "NIGHTSHIFT_TOKEN": plane.token,
        "NIGHTSHIFT_DATA_DIR": str(plane.data_dir),
    }
    done = subprocess.run(
        [sys.executable, "-m", "nightshift", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _groups(plane: AlertPlane) -> list[tuple[str, str]]:
    from nightshift.store.database import Database
    from nightshift.store.tables import AlertGroupRow

    db = Database(plane.database_url)
    try:
        with db.read() as s:
            return [(g.state, g.reason) for g in s.query(AlertGroupRow)]
    finally:
        db.dispose()


def _investigations(client: httpx.Client) -> list[dict[str, Any]]:
    return list(client.get("/v1/investigations", params={"limit": 200}).json()["items"])


def test_a_webhook_starts_one_worker_and_replays_start_nothing(plane: AlertPlane) -> None:
    sender = {"Authorization": f"Bearer {plane.sender_token}"}
    body = _webhook([_alert(i) for i in range(50)])
    with httpx.Client(base_url=plane.url, timeout=30) as raw, plane.client() as admin:
        first = raw.post(AM, json=body, headers=sender)
        assert first.status_code == 200, first.text
        assert len(first.json()["started"]) == 1, (first.json(), _groups(plane))
        (inv_id,) = first.json()["started"]
        plane.wait_for(admin, inv_id, {"running", *TERMINAL}, timeout=60)
        for _ in range(100):  # Alertmanager retries; a replay must start nothing
            assert raw.post(AM, json=body, headers=sender).json()["started"] == []
        assert raw.post(AM, json=body).status_code == 401  # no token
        assert raw.post(AM, json={**body, "version": "3"}, headers=sender).status_code == 422
        assert len(_investigations(admin)) == 1
        absorbed = admin.get(f"/v1/investigations/{inv_id}/alerts").json()
        assert len(absorbed) == 50 and {a["received_count"] for a in absorbed} == {101}
        plane.wait_for(admin, inv_id, TERMINAL, timeout=120)
    listed = json.loads(_cli(plane, "alerts", "list", "--json", "--limit", "1000"))
    assert len(listed) == 50 and {a["investigation_id"] for a in listed} == {inv_id}
    shown = _cli(plane, "investigations", "show", inv_id)
    assert "started from 50 alerts" in shown
    assert "paging" in _cli(plane, "alerts", "routes", "list")
    assert "CheckoutLatencyHigh" in _cli(plane, "alerts", "show", listed[0]["fingerprint"])


def test_resolved_notifications_update_the_stored_alerts(plane: AlertPlane) -> None:
    sender = {"Authorization": f"Bearer {plane.sender_token}"}
    with httpx.Client(base_url=plane.url, timeout=30) as raw, plane.client() as admin:
        (inv_id,) = raw.post(AM, json=_webhook([_alert(1), _alert(2)]), headers=sender).json()[
            "started"
        ]
        resolved = _webhook([_alert(1, status="resolved"), _alert(2, status="resolved")])
        assert raw.post(AM, json=resolved, headers=sender).status_code == 200
        stored = admin.get("/v1/alerts", params={"status": "resolved"}).json()
        assert {a["fingerprint"] for a in stored} == {f"{1:016x}", f"{2:016x}"}
        done = plane.wait_for(admin, inv_id, TERMINAL, timeout=120)
        events = admin.get(f"/v1/investigations/{inv_id}/events?follow=false").text
        # Either the alerts resolved while it ran (recorded), or it had already ended.
        assert "event: alerts_resolved" in events or done["finished_at"]


def test_a_real_alertmanager_group_of_many_alerts_starts_one_investigation(
    plane: AlertPlane, require_alertmanager: None
) -> None:
    am = alertmanager.start(
        f"{plane.url}{AM}",
        bearer_token=plane.sender_token,
        group_by=("namespace",),
        group_wait="1s",
        group_interval="1s",
    )
    try:
        alerts = [
            alertmanager.alert(
                "CheckoutLatencyHigh",
                {"severity": "page", "namespace": "shop", "pod": f"c-{i}"},
                summary="checkout p99 above 2s",
            )
            for i in range(60)
        ]
        noise = [alertmanager.alert("Watchdog", {"severity": "none", "namespace": "monitoring"})]
        am.post(alerts + noise)
        with plane.client() as admin:
            deadline = time.monotonic() + 60
            while (
                time.monotonic() < deadline
                and len(admin.get("/v1/alerts", params={"limit": 1000}).json()) < 61
            ):
                time.sleep(0.3)
            stored = admin.get("/v1/alerts", params={"limit": 1000}).json()
            assert len(stored) == 61, am.log()
            # More alerts of the same group: Alertmanager sends the grown group again.
            am.post(
                [
                    alertmanager.alert(
                        "PgBouncerClientsWaiting", {"severity": "critical", "namespace": "shop"}
                    )
                ]
            )
            while (
                time.monotonic() < deadline
                and len(admin.get("/v1/alerts", params={"limit": 1000}).json()) < 62
            ):
                time.sleep(0.3)
            time.sleep(2.5)  # a few group intervals: any extra notification has arrived
            items = _investigations(admin)
            assert len(items) == 1, items
            inv = items[0]
            assert inv["title"].startswith(("CheckoutLatencyHigh", "PgBouncerClientsWaiting"))
            absorbed = admin.get(f"/v1/investigations/{inv['id']}/alerts").json()
            names = {a["labels"]["alertname"] for a in absorbed}
            assert names == {"CheckoutLatencyHigh", "PgBouncerClientsWaiting"}
            assert len(absorbed) == 61  # the Watchdog is stored but routed nowhere
            watchdog = next(a for a in stored if a["labels"]["alertname"] == "Watchdog")
            assert watchdog["investigation_id"] is None and watchdog["source"] == "alertmanager"
    finally:
        alertmanager.stop(am)


def test_concurrent_deliveries_of_one_new_group_start_one_investigation(plane: AlertPlane) -> None:
    sender = {"Authorization": f"Bearer {plane.sender_token}"}
    bodies = [_webhook([_alert(i) for i in range(k, k + 20)]) for k in range(0, 160, 20)]
    with (
        httpx.Client(base_url=plane.url, timeout=60, headers=sender) as raw,
        ThreadPoolExecutor(8) as pool,
    ):
        answers = list(pool.map(lambda b: raw.post(AM, json=b), bodies))
    assert [a.status_code for a in answers] == [200] * 8
    assert sum(len(a.json()["started"]) for a in answers) == 1
    with plane.client() as admin:
        (inv,) = _investigations(admin)
        assert len(admin.get(f"/v1/investigations/{inv['id']}/alerts").json()) == 160
