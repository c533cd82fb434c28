"""The prometheus source against a real Prometheus scraping a test exporter every second."""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

import pytest

from nightshift.agent.tools.protocol import ToolCall, ToolResult, Toolset, ToolStatus
from nightshift.domain.vocabulary import Domain
from nightshift.sources.config import SourceConfig
from nightshift.sources.context import SourceContext
from nightshift.sources.registry import build_toolset
from tests.support import metrics_stack, prometheus
from tests.support.exporter import Exporter
from tests.support.metrics_stack import require

exporter = metrics_stack.exporter
prometheus_server = metrics_stack.prometheus_server

pytestmark = pytest.mark.slow
MI = 1024 * 1024


def sources(
    url: str, settings: dict[str, Any] | None = None, namespaces: frozenset[str] = frozenset({"*"})
) -> Toolset:
    source = SourceConfig(
        name="prom",
        kind="prometheus",
        domain="application",
        url=url,
        timeout_seconds=10,
        settings=settings or {},
    )
    return build_toolset([source], SourceContext("inv-1", namespaces))


def ask(toolset: Toolset, tool: str, **params: Any) -> ToolResult:
    return asyncio.run(toolset.call(ToolCall(tool, params)))


def test_a_scraped_series_appears_with_its_climb(
    exporter: Exporter, prometheus_server: prometheus.PrometheusServer
) -> None:
    waiting = {"database": "orders", "user": "app"}
    exporter.gauge("pgbouncer_pools_client_waiting_connections", waiting, 0)
    prometheus_server.wait_for("pgbouncer_pools_client_waiting_connections")
    time.sleep(3)
    exporter.gauge("pgbouncer_pools_client_waiting_connections", waiting, 42)
    prometheus_server.wait_for("pgbouncer_pools_client_waiting_connections == 42")
    result = ask(
        sources(prometheus_server.url),
        "prometheus_query",
        query='pgbouncer_pools_client_waiting_connections{database="orders"}',
        range_minutes=1,
    )
    assert result.status is ToolStatus.OK, result.text
    lines = result.text.splitlines()
    assert lines[1] == "range: 1m, step 1s, 1 series"
    row = lines[3].split()
    assert row[0].startswith('pgbouncer_pools_client_waiting_connections{database="orders"')
    assert row[7:10] == ["42", "0", "42"]  # now, MIN, MAX
    assert " ".join(row[10:]) == "rising from 0"


def test_bad_promql_is_an_error_quoting_prometheus(
    prometheus_server: prometheus.PrometheusServer,
) -> None:
    result = ask(sources(prometheus_server.url), "prometheus_query", query="rate(up[5m]")
    assert result.status is ToolStatus.ERROR
    assert result.text.startswith("query: rate(up[5m]\nERROR: bad_data: ")
    assert "parse error" in result.text


def test_a_huge_query_is_cut_with_a_marker_within_the_answer_cap(
    exporter: Exporter, prometheus_server: prometheus.PrometheusServer
) -> None:
    for i in range(3000):
        exporter.gauge("storm_series", {"pod": f"web-{i}", "namespace": f"ns-{i % 30}"}, i)
    prometheus_server.wait_for("storm_series", series=3000)
    shown = ask(sources(prometheus_server.url), "prometheus_query", query="storm_series")
    assert "3000 series (showing the 50 with the highest peaks)" in shown.text
    assert shown.text.splitlines()[-1].startswith("[truncated by nightshift: 2950 more series")
    assert len(shown.text) <= 16_000
    assert 'pod="web-2999"' in shown.text and 'pod="web-10"' not in shown.text

    refused = ask(
        sources(prometheus_server.url, {"max_total_points": 1000}),
        "prometheus_query",
        query="storm_series",
        range_minutes=60,
    )
    assert refused.status is ToolStatus.OK
    assert re.search(r"reading stopped at \d+ points \(limit 1000\)", refused.text)
    assert refused.data is not None and refused.data["complete"] is False
    exporter.remove("storm_series")


def test_prometheus_down_is_source_unavailable_evidence(exporter: Exporter) -> None:
    require(prometheus.available())
    server = prometheus.start([exporter.target])
    try:
        server.wait_for_scrape()
        toolset = sources(server.url)
        assert ask(toolset, "prometheus_query", query="up").status is ToolStatus.OK
    finally:
        prometheus.stop(server)
    result = ask(toolset, "prometheus_query", query="up")
    assert result.status is ToolStatus.ERROR
    assert result.text.startswith("source unavailable: prometheus source 'prom': ConnectError")


def _millicores(cell: str) -> int:
    assert cell.endswith("m"), cell
    return int(cell[:-1])


def test_kubectl_top_pods_and_nodes_from_cadvisor_and_node_exporter_series(
    exporter: Exporter, prometheus_server: prometheus.PrometheusServer
) -> None:
    exporter.container("shop", "checkout-7d9f-abcde", "app", 0.25, 128 * MI)
    exporter.container("shop", "checkout-7d9f-abcde", "istio-proxy", 0.05, 64 * MI)
    exporter.container("shop", "cart-55c-xyz12", "app", 1.5, 900 * MI)
    exporter.container("db", "postgres-0", "postgres", 0.5, 2000 * MI)
    exporter.node("node-1:9100", 4, 1.0, 8192 * MI, 6144 * MI)
    prometheus_server.wait_for("irate(container_cpu_usage_seconds_total[1m]) > 0", series=4)
    prometheus_server.wait_for('irate(node_cpu_seconds_total{mode="user"}[1m]) > 0', series=4)
    toolset = sources(prometheus_server.url, {"cadvisor_window": "1m"})

    pods = ask(toolset, "kubectl_top", kind="pods", namespace="shop")
    assert pods.status is ToolStatus.OK, pods.text
    rows = [line.split() for line in pods.text.splitlines()]
    assert rows[0] == ["NAME", "CPU(cores)", "MEMORY(bytes)"]
    assert [r[0] for r in rows[1:]] == ["cart-55c-xyz12", "checkout-7d9f-abcde"]
    # irate over two scrapes: exact but for the scrape's own timing jitter (wide under load)
    assert 1100 <= _millicores(rows[1][1]) <= 1900 and rows[1][2] == "900Mi"
    assert 200 <= _millicores(rows[2][1]) <= 400 and rows[2][2] == "192Mi"  # both containers

    nodes = ask(toolset, "kubectl_top", kind="nodes")
    head, node = (line.split() for line in nodes.text.splitlines()[:2])
    assert head == ["NAME", "CPU(cores)", "CPU%", "MEMORY(bytes)", "MEMORY%"]
    assert node[0] == "node-1" and 700 <= _millicores(node[1]) <= 1300
    assert 17 <= int(node[2].rstrip("%")) <= 33 and node[3:] == ["2048Mi", "25%"]


def _pods_in_shop_and_db(
    exporter: Exporter, prometheus_server: prometheus.PrometheusServer
) -> None:
    """One pod in each of two namespaces, scraped: what a bounded agent must split."""
    exporter.container("shop", "checkout-7d9f-abcde", "app", 0.25, 128 * MI)
    exporter.container("db", "postgres-0", "postgres", 0.5, 2000 * MI)
    prometheus_server.wait_for("container_memory_working_set_bytes", series=2)


def test_kubectl_top_keeps_a_bounded_agent_in_its_namespaces(
    exporter: Exporter, prometheus_server: prometheus.PrometheusServer
) -> None:
    _pods_in_shop_and_db(exporter, prometheus_server)
    toolset = sources(prometheus_server.url, namespaces=frozenset({"shop"}))
    everything = ask(toolset, "kubectl_top", kind="pods")
    assert "checkout-7d9f-abcde" in everything.text and "postgres-0" not in everything.text
    denied = ask(toolset, "kubectl_top", kind="pods", namespace="db")
    assert denied.status is ToolStatus.DENIED


def test_a_confined_agents_promql_reaches_only_its_namespaces(
    exporter: Exporter, prometheus_server: prometheus.PrometheusServer
) -> None:
    _pods_in_shop_and_db(exporter, prometheus_server)
    confined = sources(prometheus_server.url, namespaces=frozenset({"shop"}))
    everyone = sources(prometheus_server.url)

    def series(toolset: Toolset, query: str) -> list[str]:
        got = ask(toolset, "prometheus_query", query=query, range_minutes=5)
        return [s["series"] for s in (got.data or {}).get("series", [])]

    query = "sum by (namespace) (container_memory_working_set_bytes)"
    assert len(series(everyone, query)) == 2  # the plain query sees both namespaces
    assert series(confined, query) == ['{namespace="shop"}']
    # Naming the other namespace, or every series by name, widens nothing.
    other = ask(confined, "prometheus_query", query='{__name__=~".+", namespace="db"}')
    assert other.status is ToolStatus.NO_DATA, other.text
    assert 'namespace=~"shop"' in other.text  # the agent sees the query that ran
    broken = ask(confined, "prometheus_query", query="up{job=")
    assert broken.status is ToolStatus.ERROR and "refused" in broken.text


def test_broker_credentials_reach_a_prometheus_that_requires_basic_auth(
    exporter: Exporter,
) -> None:
    require(prometheus.available())
    server = prometheus.start([exporter.target], basic_auth=True)
    try:
        source = SourceConfig(name="prom", kind="prometheus", domain="application", url=server.url)
        stored = {"username": prometheus.TEST_USER, "password": prometheus.TEST_PASSWORD}
        leased = SourceContext("inv-1", frozenset({"*"}), {(Domain.APPLICATION, "default"): stored})
        granted = build_toolset([source], leased)
        answer = ask(granted, "prometheus_query", query="vector(1)", range_minutes=1)
        assert answer.status is ToolStatus.OK, answer.text
        assert answer.text.splitlines()[3].split()[0] == "{}"

        anonymous = build_toolset([source], SourceContext("inv-1", frozenset({"*"})))
        refused = ask(anonymous, "prometheus_query", query="vector(1)")
        assert refused.status is ToolStatus.ERROR
        assert "HTTP 401 from Prometheus" in refused.text
        assert prometheus.TEST_PASSWORD not in answer.text + refused.text
    finally:
        prometheus.stop(server)


def test_an_https_prometheus_is_trusted_through_ca_file_and_only_so(exporter: Exporter) -> None:
    require(prometheus.available())
    server = prometheus.start([exporter.target], tls=True)
    try:
        assert server.url.startswith("https://") and server.ca_file is not None
        trusted = sources(server.url, {"ca_file": str(server.ca_file)})
        answer = ask(trusted, "prometheus_query", query="vector(1)", range_minutes=1)
        assert answer.status is ToolStatus.OK, answer.text
        untrusted = ask(sources(server.url), "prometheus_query", query="vector(1)")
        assert untrusted.status is ToolStatus.ERROR
        assert untrusted.text.startswith("source unavailable: prometheus source 'prom'")
        assert "CERTIFICATE_VERIFY_FAILED" in untrusted.text
    finally:
        prometheus.stop(server)
