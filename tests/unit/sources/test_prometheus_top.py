"""kubectl top from cAdvisor and node_exporter series: kubectl's format, the
agent's namespaces kept in the query itself."""

from __future__ import annotations

import re
from urllib.parse import unquote

import httpx
import pytest

from nightshift.agent.tools.protocol import ToolCall, ToolStatus
from nightshift.sources.kubectl_top import cpu_cores, memory_bytes
from tests.unit.sources.test_prometheus import NOW, FakePrometheus, toolset

MI = 1024 * 1024


def _vector(rows: list[tuple[dict[str, str], float]]) -> httpx.Response:
    result = [{"metric": m, "value": [NOW, str(v)]} for m, v in rows]
    body = {"status": "success", "data": {"resultType": "vector", "result": result}}
    return httpx.Response(200, json=body)


def _in(query: str, rows: list[tuple[dict[str, str], float]]) -> httpx.Response:
    """Only the rows an exact namespace matcher in ``query`` keeps (as Prometheus would)."""
    m = re.search(r'namespace="([^"]+)"', query)
    return _vector([r for r in rows if m is None or r[0].get("namespace") == m.group(1)])


class CadvisorFake(FakePrometheus):
    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        q = self.params(request)["query"]
        if "container_cpu_usage_seconds_total" in q:
            return _in(
                q,
                [({"namespace": "shop", "pod": "checkout-1"}, 0.25),
                 ({"namespace": "shop", "pod": "checkout-2"}, 1.2345),
                 ({"namespace": "db", "pod": "pg-0"}, 2.0)]
            )  # fmt: skip
        if "container_memory_working_set_bytes" in q:
            return _in(
                q,
                [({"namespace": "shop", "pod": "checkout-1"}, 128 * MI),
                 ({"namespace": "shop", "pod": "checkout-2"}, 300.7 * MI),
                 ({"namespace": "db", "pod": "pg-0"}, 2000 * MI)]
            )  # fmt: skip
        if "node_cpu_seconds_total" in q and "count by" in q:
            return _vector([({"instance": "node-1:9100"}, 4), ({"instance": "node-2:9100"}, 8)])
        if "node_cpu_seconds_total" in q:
            return _vector([({"instance": "node-1:9100"}, 1.0), ({"instance": "node-2:9100"}, 6)])
        if "MemAvailable" in q:
            return _vector([({"instance": "node-1:9100"}, 2048 * MI)])
        if "MemTotal" in q:
            return _vector(
                [({"instance": "node-1:9100"}, 8192 * MI), ({"instance": "node-2:9100"}, 1024)]
            )
        return _vector([])


async def test_top_pods_in_a_namespace_prints_kubectls_columns() -> None:
    fake = CadvisorFake()
    result = await toolset(fake).call(
        ToolCall("kubectl_top", {"kind": "pods", "namespace": "shop"})
    )
    assert result.status is ToolStatus.OK
    assert [line.split() for line in result.text.splitlines()] == [
        ["NAME", "CPU(cores)", "MEMORY(bytes)"],
        ["checkout-1", "250m", "128Mi"],
        ["checkout-2", "1235m", "300Mi"],
    ]
    sent = [unquote(fake.params(r)["query"]) for r in fake.requests]
    assert all('namespace="shop"' in q for q in sent)
    assert all('container!="",container!="POD"' in q for q in sent)


async def test_top_pods_across_namespaces_adds_the_namespace_column() -> None:
    result = await toolset(CadvisorFake()).call(ToolCall("kubectl_top", {"kind": "pods"}))
    assert result.text.splitlines()[0].split() == [
        "NAMESPACE", "NAME", "CPU(cores)", "MEMORY(bytes)",
    ]  # fmt: skip
    assert result.text.splitlines()[1].split() == ["db", "pg-0", "2000m", "2000Mi"]


async def test_an_agent_bounded_to_namespaces_asks_only_for_those() -> None:
    fake = CadvisorFake()
    ts = toolset(fake, namespaces=frozenset({"shop", "billing"}))
    await ts.call(ToolCall("kubectl_top", {"kind": "pods"}))
    assert all('namespace=~"billing|shop"' in fake.params(r)["query"] for r in fake.requests)


async def test_a_namespace_outside_the_boundaries_is_denied_without_asking() -> None:
    fake = CadvisorFake()
    ts = toolset(fake, namespaces=frozenset({"shop"}))
    result = await ts.call(ToolCall("kubectl_top", {"kind": "pods", "namespace": "db"}))
    assert result.status is ToolStatus.DENIED
    assert fake.requests == []


async def test_top_nodes_prints_usage_and_percent_of_capacity() -> None:
    result = await toolset(CadvisorFake()).call(ToolCall("kubectl_top", {"kind": "nodes"}))
    assert [line.split() for line in result.text.splitlines()] == [
        ["NAME", "CPU(cores)", "CPU%", "MEMORY(bytes)", "MEMORY%"],
        ["node-1", "1000m", "25%", "2048Mi", "25%"],
        ["node-2", "6000m", "75%", "<unknown>", "<unknown>"],
    ]


async def test_no_cadvisor_series_is_no_data_saying_where_it_looked() -> None:
    fake = FakePrometheus()
    result = await toolset(fake).call(ToolCall("kubectl_top", {"kind": "pods", "namespace": "x"}))
    assert result.status is ToolStatus.NO_DATA
    assert result.text == "No resources found in x namespace. (from Prometheus cAdvisor series)"


async def test_with_cadvisor_off_the_source_does_not_offer_kubectl_top() -> None:
    ts = toolset(FakePrometheus(), {"cadvisor": False})
    assert [s.name for s in ts.specs()] == ["prometheus_query"]


async def test_more_pods_than_rows_allowed_are_counted_in_a_marker() -> None:
    result = await toolset(CadvisorFake(), {"max_top_rows": 2}).call(
        ToolCall("kubectl_top", {"kind": "pods"})
    )
    assert len(result.text.splitlines()) == 4
    assert result.text.splitlines()[-1].startswith("[truncated by nightshift: 1 more pods")


def test_kubernetes_quantities_parse_as_kubectl_reads_them() -> None:
    assert cpu_cores("250m") == 0.25
    assert cpu_cores("123456789n") == pytest.approx(0.123456789)
    assert cpu_cores("2") == 2.0
    assert memory_bytes("128Mi") == 128 * MI
    assert memory_bytes("12345Ki") == 12345 * 1024
    assert memory_bytes("1G") == 10**9
