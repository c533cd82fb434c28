"""The alertmanager source against a real Alertmanager (and a real Prometheus
whose alerting rule fires into it)."""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

import pytest

from nightshift.agent.tools.protocol import ToolCall, ToolResult, Toolset, ToolStatus
from nightshift.sources.config import SourceConfig
from nightshift.sources.context import SourceContext
from nightshift.sources.guard import TRUNCATION_MARKER
from nightshift.sources.registry import build_toolset
from tests.support import alertmanager, metrics_stack, prometheus
from tests.support.alertmanager import AlertmanagerServer, alert
from tests.support.exporter import CASCADE_RULES, Exporter
from tests.support.metrics_stack import require

alertmanager_server = metrics_stack.alertmanager_server
exporter = metrics_stack.exporter

pytestmark = pytest.mark.slow


def sources(url: str, namespaces: frozenset[str] = frozenset({"*"})) -> Toolset:
    source = SourceConfig(name="am", kind="alertmanager", domain="application", url=url)
    return build_toolset([source], SourceContext("inv-1", namespaces))


def ask(toolset: Toolset, **params: Any) -> ToolResult:
    return asyncio.run(toolset.call(ToolCall("list_alerts", params)))


@pytest.fixture(scope="module")
def storm(alertmanager_server: AlertmanagerServer) -> AlertmanagerServer:
    """3,000 alerts: a pod storm over 2,800 pods, node alerts, and one root cause."""
    pods = [
        alert("KubePodNotReady", {"namespace": f"team-{i % 20}", "pod": f"web-{i}",
              "severity": "warning"}, started_minutes_ago=60 - i / 50,
              description="Pod has been in a non-ready state for more than 15 minutes.")
        for i in range(2800)
    ]  # fmt: skip
    nodes = [
        alert("NodeFilesystemAlmostFull", {"instance": f"node-{i}:9100", "severity": "info"},
              started_minutes_ago=300 + i, summary="filesystem has less than 10% left")
        for i in range(199)
    ]  # fmt: skip
    cause = alert("PgBouncerClientsWaiting", {"namespace": "db", "service": "pgbouncer",
                  "severity": "critical", "domain": "database"}, started_minutes_ago=62,
                  description="orders pool: 42 clients waiting for a connection")  # fmt: skip
    alertmanager_server.post([*pods, *nodes, cause])
    alertmanager_server.wait_for_alerts(3000)
    return alertmanager_server


def test_a_storm_of_3000_alerts_is_summarized_with_every_group_counted(
    storm: AlertmanagerServer,
) -> None:
    result = ask(sources(storm.url))
    assert result.status is ToolStatus.OK
    text = result.text
    assert len(text) <= 16_000
    assert TRUNCATION_MARKER.split("{")[0] not in text
    assert text.startswith(
        "3000 alerts firing (critical: 1, warning: 2800, info: 199) in 3000 groups"
    )
    by_name = text.split("By alert name and severity (all 3000 alerts):\n", 1)[1]
    by_name = by_name.split("Newest groups", 1)[0]
    names = {
        m.group(2): int(m.group(1))
        for m in re.finditer(r"Z\s+(\d+)\s+\d+\s+\w+\s+(\w+)\s+\S+", by_name)
    }
    assert names["KubePodNotReady"] == 2800
    assert names["PgBouncerClientsWaiting"] == 1
    assert sum(names.values()) == 3000  # every alert counted under its name
    assert "42 clients waiting" in by_name  # the root cause keeps its words in the storm
    newest = text.split("Newest groups (alert name, severity, target):\n", 1)[1].splitlines()[1]
    assert "KubePodNotReady" in newest and "team-19/web-2799" in newest
    assert re.search(r"\.\.\. and \d+ older groups \(\d+ alerts\) not shown row by row", text)


def test_filters_are_applied_by_alertmanager(storm: AlertmanagerServer) -> None:
    critical = ask(sources(storm.url), severity="critical")
    lines = critical.text.splitlines()
    assert lines[0].startswith("1 alerts firing (critical: 1, warning: 0, info: 0)")
    assert lines[2].split()[3:8] == [
        "1", "critical", "database", "PgBouncerClientsWaiting", "db/pgbouncer",
    ]  # fmt: skip
    assert "42 clients waiting" in lines[2]
    database = ask(sources(storm.url), domain="database")
    assert database.text.splitlines()[0].startswith("1 alerts firing")
    # Alerts without a domain label belong to the source's domain (application).
    application = ask(sources(storm.url), domain="application")
    assert application.text.startswith("2999 alerts firing")


def test_a_bounded_agent_sees_its_namespaces_and_cluster_wide_alerts(
    storm: AlertmanagerServer,
) -> None:
    result = ask(sources(storm.url, frozenset({"team-3", "db"})))
    # 140 pods of team-3, the pgbouncer alert, 199 node alerts without a namespace
    assert result.text.startswith("340 alerts firing (critical: 1, warning: 140, info: 199)")
    assert "team-4/" not in result.text


def test_alertmanager_down_is_source_unavailable_evidence() -> None:
    require(alertmanager.available())
    server = alertmanager.start()
    try:
        toolset = sources(server.url)
        assert ask(toolset).status is ToolStatus.NO_DATA
    finally:
        alertmanager.stop(server)
    result = ask(toolset)
    assert result.status is ToolStatus.ERROR
    assert result.text.startswith("source unavailable: alertmanager source 'am': ConnectError")


def test_the_cascade_fired_by_real_prometheus_rules_is_listed_with_its_cause(
    exporter: Exporter,
) -> None:
    require(prometheus.available())
    require(alertmanager.available())
    am = alertmanager.start()
    prom = prometheus.start([exporter.target], rules=CASCADE_RULES, alertmanager=am.target)
    try:
        prom.wait_for_scrape()
        exporter.pgbouncer("orders", waiting=42, active=20, max_wait_seconds=3.5)
        exporter.postgres("orders", {"active": 95, "idle": 3}, max_connections=100)
        deadline = time.monotonic() + 60
        while len(am.alerts()) < 4:  # slow checkouts go on until every rule has fired
            assert time.monotonic() < deadline, am.alerts()
            exporter.checkout(latency_seconds=2.5, requests_per_second=20, timeouts=3)
            time.sleep(0.5)
        result = ask(sources(am.url))
        rows = {line.split()[6]: line for line in result.text.splitlines()[2:]}
        assert set(rows) == {
            "CheckoutLatencyHigh", "CheckoutUpstreamTimeouts", "PgBouncerClientsWaiting",
            "PostgresConnectionsNearMax",
        }  # fmt: skip
        assert rows["PgBouncerClientsWaiting"].split()[4:8] == [
            "critical", "database", "PgBouncerClientsWaiting", "db/pgbouncer",
        ]  # fmt: skip
        assert "orders pool: 42 clients waiting" in rows["PgBouncerClientsWaiting"]
        assert "remaining connection slots" in rows["PostgresConnectionsNearMax"]
        assert "shop/checkout" in rows["CheckoutLatencyHigh"]
        database = ask(sources(am.url), domain="database")
        assert database.text.startswith("2 alerts firing (critical: 2, warning: 0, info: 0)")
    finally:
        for name in ("pgbouncer_pools_client_waiting_connections", "pg_stat_activity_count"):
            exporter.remove(name)
        prometheus.stop(prom)
        alertmanager.stop(am)
