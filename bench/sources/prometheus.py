"""prometheus_query and kubectl_top against a real Prometheus scraping a test exporter.

.venv/bin/python -m bench.sources --only prometheus
"""

from __future__ import annotations

import asyncio
import time

from bench.sources.common import Row, row, timed
from nightshift.agent.tools.protocol import ToolCall, Toolset
from nightshift.sources.config import SourceConfig
from nightshift.sources.context import SourceContext
from nightshift.sources.registry import build_toolset
from tests.support import prometheus
from tests.support.exporter import Exporter

KIND = "prometheus"
SAMPLES = 40
MI = 1024 * 1024


def _seed(exporter: Exporter) -> None:
    for i in range(40):
        ns = f"team-{i % 4}"
        exporter.container(ns, f"web-{i}", "app", 0.05 + i / 100, (100 + i) * MI)
    for n in range(3):
        exporter.node(f"node-{n}:9100", 4, 1.0 + n, 8192 * MI, 4096 * MI)
    for i in range(500):
        exporter.gauge("bench_series", {"pod": f"web-{i}"}, i)
    exporter.gauge("pgbouncer_pools_client_waiting_connections", {"database": "orders"}, 7)


async def _latencies(tools: Toolset) -> list[Row]:
    cases = [
        ("prometheus_query", "1 series, 60m range",
         {"query": "pgbouncer_pools_client_waiting_connections", "range_minutes": 60}),
        ("prometheus_query", "500 series (50 shown), 60m",
         {"query": "bench_series", "range_minutes": 60}),
        ("prometheus_query", "rate() by namespace, 15m",
         {"query": "sum by (namespace) (rate(container_cpu_usage_seconds_total[1m]))",
          "range_minutes": 15}),
        ("prometheus_query", "bad PromQL (error answer)", {"query": "rate(up[5m]"}),
        ("kubectl_top", "pods, 40 pods, all namespaces", {"kind": "pods"}),
        ("kubectl_top", "pods, one namespace", {"kind": "pods", "namespace": "team-1"}),
        ("kubectl_top", "nodes, 3 nodes", {"kind": "nodes"}),
    ]  # fmt: skip
    rows = []
    for tool, case, params in cases:
        call = ToolCall(tool, params)

        async def once(call: ToolCall = call) -> None:
            result = await tools.call(call)
            assert result.status.value in ("ok", "error"), result.text

        rows.append(row(KIND, tool, case, await timed(once, SAMPLES)))
    return rows


def measure() -> list[Row]:
    reason = prometheus.available()
    if reason:
        raise RuntimeError(reason)
    with Exporter() as exporter:
        _seed(exporter)
        server = prometheus.start([exporter.target])
        try:
            server.wait_for("bench_series", series=500)
            time.sleep(3)  # a few scrapes, so rate() and irate() have samples
            source = SourceConfig(name="bench", kind=KIND, domain="application", url=server.url,
                                  settings={"cadvisor_window": "1m"})  # fmt: skip
            tools = build_toolset([source], SourceContext("bench", frozenset({"*"})))
            return asyncio.run(_latencies(tools))
        finally:
            prometheus.stop(server)
