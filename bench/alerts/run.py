"""Alert intake benchmark, against a real `nightshift up` subprocess.

    .venv/bin/python -m bench.alerts [--quick]

Measures:
1. intake throughput: Alertmanager webhooks of 100 alerts from 4 concurrent
   senders, alerts accepted per second, on SQLite and on PostgreSQL;
2. webhook -> worker running: one new alert group at a time, the time from the
   webhook's POST to the investigation's worker reporting running;
3. a 2 AM storm: 300 alerts of one incident (delivered the way Alertmanager
   does, the whole grown group on every notification) plus 1,000 noisy alerts
   (900 routed nowhere, 100 warnings in 25 groups), interleaved from 8 senders:
   investigations started, groups held back by the storm limit, escalations,
   p99 intake latency per request, and that every alert was stored.
Writes bench/results/alerts.md and alerts.png.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from bench.publish import (
    RESULTS,
    Check,
    figure,
    machine,
    percentile,
    reference,
    target_table,
    write_report,
)
from nightshift.settings import Settings
from tests.support import postgres
from tests.support.control_plane import TEST_SOURCES
from tests.support.server import ControlPlane

AM = "/v1/alerts/alertmanager"
# The storm runs under the default global limit on investigations started from alerts.
STORM_LIMIT: int = Settings.model_fields["alerts_max_investigations_per_minute"].default
ROUTES = [
    {"name": "incident", "agent": "triage", "tier": "multi-domain", "priority": 0,
     "matchers": ['severity=~"critical|page"'], "group_by": ["namespace"]},
    {"name": "warnings", "agent": "triage", "priority": 3,
     "matchers": ['severity="warning"'], "group_by": ["alertname"]},
]  # fmt: skip


class Plane:
    """A real control plane with an alert-sender token and the two routes."""

    def __init__(self, tmp: Path, database_url: str, **env: str) -> None:
        from nightshift.bootstrap import build_container
        from nightshift.domain.vocabulary import PrincipalKind, Role
        from nightshift.settings import Settings

        sources = tmp / "sources.yaml"
        sources.write_text(TEST_SOURCES)
        env = {"NIGHTSHIFT_SOURCES_FILE": str(sources), **env}
        self.cp = ControlPlane(tmp, database_url, env_overrides=env)
        self.cp.provision()
        c = build_container(Settings(data_dir=tmp, database_url=database_url,
                                     sources_file=sources))  # fmt: skip
        try:
            c.principals.create_user("alertmanager", kind=PrincipalKind.SERVICE,
                                     roles=frozenset({Role.ALERT_SENDER}))  # fmt: skip
            self.sender = c.principals.create_token("alertmanager")
        finally:
            c.db.dispose()
        self.cp.start()
        with self.cp.client() as admin:
            for route in ROUTES:
                admin.post("/v1/alert-routes", json=route).raise_for_status()

    def sender_client(self) -> httpx.Client:
        return httpx.Client(base_url=self.cp.url, timeout=60,
                            headers={"Authorization": f"Bearer {self.sender}"})  # fmt: skip

    def stop(self) -> None:
        self.cp.stop()


def _alert(fp: str, name: str, severity: str, namespace: str, **labels: str) -> dict[str, Any]:
    return {
        "status": "firing",
        "labels": {"alertname": name, "severity": severity, "namespace": namespace, **labels},
        "annotations": {"summary": f"{name} in {namespace}"},
        "startsAt": "2026-12-02T02:00:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus.bench/graph",
        "fingerprint": fp,
    }


def _webhook(key: str, alerts: list[dict[str, Any]]) -> dict[str, Any]:
    return {"version": "4", "groupKey": key, "truncatedAlerts": 0, "status": "firing",
            "receiver": "nightshift", "groupLabels": {}, "commonLabels": {},
            "commonAnnotations": {}, "externalURL": "http://alertmanager.bench",
            "alerts": alerts}  # fmt: skip


def throughput(plane: Plane, batches: int) -> float:
    """Alerts accepted per second: 4 senders, webhooks of 100 alerts, 5 groups."""
    bodies = []
    for b in range(batches):
        ns = f"ns-{b % 5}"
        alerts = [_alert(f"t{b:04d}{i:04d}", f"Latency{i % 7}", "page", ns, pod=f"p{b}-{i}")
                  for i in range(100)]  # fmt: skip
        bodies.append(_webhook(f'{{}}:{{namespace="{ns}"}}', alerts))
    with plane.sender_client() as client:
        t0 = time.perf_counter()
        with ThreadPoolExecutor(4) as pool:
            codes = list(pool.map(lambda body: client.post(AM, json=body).status_code, bodies))
        elapsed = time.perf_counter() - t0
    assert set(codes) == {200}, codes
    return batches * 100 / elapsed


def webhook_to_running(plane: Plane, n: int) -> list[float]:
    """ms from a webhook opening a new group to its investigation's worker running."""
    out = []
    with plane.sender_client() as client, plane.cp.client() as admin:
        for i in range(n):
            body = _webhook(f"run-{i}", [_alert(f"r{i:08d}", "CheckoutDown", "page", f"run-{i}")])
            t0 = time.time()
            started = client.post(AM, json=body).json()["started"]
            assert len(started) == 1, started
            got = plane.cp.wait_for(admin, started[0], {"running", "succeeded", "escalated",
                                                        "failed"}, timeout=60)  # fmt: skip
            while got["started_at"] is None:
                time.sleep(0.02)
                got = admin.get(f"/v1/investigations/{started[0]}").json()
            out.append((datetime.fromisoformat(got["started_at"]).timestamp() - t0) * 1000)
            plane.cp.wait_for(admin, started[0], {"succeeded", "escalated", "failed"}, 120)
    return out


def storm(plane: Plane, senders: int = 8) -> dict[str, Any]:
    incident = [
        _alert(f"s{i:08d}", name, "critical" if i % 3 == 0 else "page", "shop", pod=f"pod-{i}")
        for i, name in enumerate(_cycle(["CheckoutLatencyHigh", "PgBouncerClientsWaiting",
                                         "PostgresTooManyConnections", "EgressDenied"]))
    ]  # fmt: skip
    requests: list[dict[str, Any]] = []
    # Alertmanager re-sends the whole (grown) group on every notification.
    for k in range(1, 31):
        requests.append(_webhook('{}:{namespace="shop"}', incident[: 10 * k]))
    for b in range(9):  # 900 informational alerts no rule routes
        requests.append(_webhook(f"info-{b}", [
            _alert(f"n{b:03d}{i:05d}", f"Info{i % 90}", "info", f"team-{i % 12}")
            for i in range(100)]))  # fmt: skip
    for g in range(25):  # 100 warnings in 25 groups: the storm limit holds most back
        requests.append(_webhook(f"warn-{g}", [
            _alert(f"w{g:03d}{i:05d}", f"Warning{g}", "warning", "shop", pod=f"w{i}")
            for i in range(4)]))  # fmt: skip
    rng = random.Random(2)
    head, tail = requests[:1], requests[1:]
    rng.shuffle(tail)  # the incident's first notification comes first, the rest interleave
    latencies: list[float] = []
    lock = threading.Lock()
    started: list[str] = []
    with plane.sender_client() as client:

        def send(body: dict[str, Any]) -> None:
            t0 = time.perf_counter()
            resp = client.post(AM, json=body)
            ms = (time.perf_counter() - t0) * 1000
            resp.raise_for_status()
            with lock:
                latencies.append(ms)
                started.extend(resp.json()["started"])

        t0 = time.perf_counter()
        send(head[0])
        with ThreadPoolExecutor(senders) as pool:
            list(pool.map(send, tail))
        wall = time.perf_counter() - t0
    stored, grouped = _stored(plane.cp.database_url)
    with plane.cp.client() as admin:
        escalations = [e for e in admin.get("/v1/escalations").json()
                       if e["kind"] == "alerts_saturated"]  # fmt: skip
        investigations = admin.get("/v1/investigations", params={"limit": 200}).json()["items"]
    return {
        "requests": len(requests),
        "alert_deliveries": sum(len(r["alerts"]) for r in requests),
        "distinct_alerts": 1300,
        "stored": stored,
        "grouped": grouped,
        "started": len(started),
        "investigations": len(investigations),
        "incident_investigations": sum(1 for i in investigations if i["priority"] == 0),
        "escalations": len(escalations),
        "p50_ms": percentile(latencies, 0.5),
        "p99_ms": percentile(latencies, 0.99),
        "max_ms": max(latencies),
        "wall_s": wall,
        "latencies": latencies,
    }


def _stored(database_url: str) -> tuple[int, int]:
    """Alerts stored, and routed alerts (not severity=info) that joined a group."""
    from sqlalchemy import func, select

    from nightshift.store.database import Database
    from nightshift.store.tables import AlertGroupMemberRow, AlertRow

    db = Database(database_url)
    try:
        with db.read() as s:
            stored = s.scalar(select(func.count()).select_from(AlertRow)) or 0
            grouped = s.scalar(select(func.count(func.distinct(AlertGroupMemberRow.alert_id))))
            return int(stored), int(grouped or 0)
    finally:
        db.dispose()


def _cycle(items: list[str]) -> list[str]:
    return [items[i % len(items)] for i in range(300)]


def _with_plane(database_url: Callable[[Path], str], fn: Callable[[Plane], Any], **env: str) -> Any:
    with tempfile.TemporaryDirectory() as d:
        plane = Plane(Path(d), database_url(Path(d)), **env)
        try:
            return fn(plane)
        finally:
            plane.stop()


def checks(db: str, s: dict[str, Any]) -> list[Check]:
    """Issue 13's storm targets for one database; its speeds have none (reference)."""
    return [
        Check(
            f"storm ({db}): one investigation for the incident (one per routing rule and group)",
            f"{s['incident_investigations']}",
            s["incident_investigations"] == 1,
        ),
        Check(
            f"storm ({db}): investigations started stay within the storm limit ({STORM_LIMIT}/min)",
            f"{s['investigations']}",
            s["investigations"] <= STORM_LIMIT,
        ),
        Check(
            f"storm ({db}): past the limit, an escalation says automation is saturated",
            f"{s['escalations']} escalation(s)",
            s["escalations"] >= 1,
        ),
        Check(
            f"storm ({db}): nothing lost (every distinct alert stored)",
            f"{s['stored']} / {s['distinct_alerts']}",
            s["stored"] == s["distinct_alerts"],
        ),
        reference(f"storm ({db}): intake latency p99 {s['p99_ms']:.0f} ms"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    args = parser.parse_args()
    batches, n_running = (5, 3) if args.quick else (30, 15)
    sqlite: Callable[[Path], str] = lambda d: f"sqlite:///{d / 'nightshift.db'}"  # noqa: E731

    tp_sqlite = _with_plane(sqlite, lambda p: throughput(p, batches))
    pg = postgres.start()
    try:
        names = iter(range(100))
        pg_url: Callable[[Path], str] = lambda _d: pg.create_database(f"bench_{next(names)}")  # noqa: E731
        tp_pg = _with_plane(pg_url, lambda p: throughput(p, batches))
        storm_pg = _with_plane(pg_url, storm)
    finally:
        postgres.stop(pg)
    running = _with_plane(sqlite, lambda p: webhook_to_running(p, n_running),
                          NIGHTSHIFT_ALERTS_MAX_INVESTIGATIONS_PER_MINUTE="1000")  # fmt: skip
    st = _with_plane(sqlite, storm)

    lines = [
        "# Alert intake benchmark",
        "",
        f"Machine: {machine()}. Command: `python -m bench.alerts"
        f"{' --quick' if args.quick else ''}`. A real `nightshift up` (local executor, real "
        "worker processes), Alertmanager webhook payloads (version 4) over HTTP.",
        "",
        "| measure | value |",
        "|---|---|",
        f"| intake throughput, SQLite ({batches} webhooks x 100 alerts, 4 senders) | "
        f"{tp_sqlite:.0f} alerts/s |",
        f"| intake throughput, PostgreSQL | {tp_pg:.0f} alerts/s |",
        f"| webhook -> worker running, median / p99 (n={n_running}) | "
        f"{percentile(running, 0.5):.0f} / {percentile(running, 0.99):.0f} ms |",
    ]
    for db, s in (("SQLite", st), ("PostgreSQL", storm_pg)):
        lines += [
            f"| storm ({db}): requests / alert deliveries / distinct alerts | "
            f"{s['requests']} / {s['alert_deliveries']} / {s['distinct_alerts']} |",
            f"| storm ({db}): alerts stored / routed alerts in a group (of 1300 / 400) | "
            f"{s['stored']} / {s['grouped']} |",
            f"| storm ({db}): investigations started (incident / all; global limit "
            f"{STORM_LIMIT}/min) | "
            f"{s['incident_investigations']} / {s['investigations']} |",
            f"| storm ({db}): saturation escalations | {s['escalations']} |",
            f"| storm ({db}): intake latency per request p50 / p99 / max | "
            f"{s['p50_ms']:.0f} / {s['p99_ms']:.0f} / {s['max_ms']:.0f} ms |",
            f"| storm ({db}): wall time, 8 senders | {s['wall_s']:.1f} s |",
        ]
    lines += [
        "",
        *target_table([
            *checks("SQLite", st),
            *checks("PostgreSQL", storm_pg),
            reference(f"intake throughput SQLite / PostgreSQL: {tp_sqlite:.0f} / {tp_pg:.0f} "
                      "alerts/s"),
            reference(f"webhook -> worker running p99: {percentile(running, 0.99):.0f} ms"),
        ]),
    ]  # fmt: skip
    print(write_report("alerts", lines), end="")
    _plot(tp_sqlite, tp_pg, st["latencies"], storm_pg["latencies"])


def _plot(tp_sqlite: float, tp_pg: float, lat_sqlite: list[float], lat_pg: list[float]) -> None:
    with figure(RESULTS / "alerts.png", 1, 2, figsize=(10, 4)) as (left, right):
        left.bar(["SQLite", "PostgreSQL"], [tp_sqlite, tp_pg], color=["#4c72b0", "#55a868"])
        left.set_ylabel("alerts accepted per second")
        left.set_title("Intake throughput")
        right.hist([lat_sqlite, lat_pg], bins=25, label=["SQLite", "PostgreSQL"])
        right.set_xlabel("ms per webhook")
        right.set_ylabel("webhooks")
        right.set_title("2 AM storm: intake latency")
        right.legend()


if __name__ == "__main__":
    main()
