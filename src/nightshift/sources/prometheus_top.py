"""``kubectl top`` from the series Prometheus already scrapes.

Pods: the kubelet's cAdvisor series, CPU as ``irate`` of
``container_cpu_usage_seconds_total`` (the last two samples, as recent as
metrics-server's own figure) and memory as ``container_memory_working_set_bytes``
(what metrics-server reports and the OOM killer weighs), summed over the pod's
containers (``container=""`` is the pod cgroup, ``POD`` the pause container:
both would count twice). Nodes: node_exporter's CPU time outside idle, iowait
and steal, and MemTotal - MemAvailable, with the node's CPU count and MemTotal
for the percentages. Namespaces outside the agent's boundaries are never asked.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from nightshift.agent.tools.protocol import ToolResult, ToolStatus
from nightshift.domain.agents import ALL_NAMESPACES
from nightshift.sources.kubectl_top import NodeUsage, PodUsage, render_nodes, render_pods
from nightshift.sources.prometheus_api import PrometheusApi, Series

SOURCE = "from Prometheus cAdvisor series"
NODE_SOURCE = "from Prometheus node_exporter series"
_PORT = re.compile(r"^(.+):\d+$")


@dataclass(frozen=True, slots=True)
class TopQueries:
    window: str = "5m"
    node_label: str = "instance"

    def pods(self, matcher: str) -> tuple[str, str]:
        sel = f'container!="",container!="POD"{matcher}'
        return (
            f"sum by (namespace, pod) (irate(container_cpu_usage_seconds_total{{{sel}}}"
            f"[{self.window}]))",
            f"sum by (namespace, pod) (container_memory_working_set_bytes{{{sel}}})",
        )

    def nodes(self) -> tuple[str, str, str, str]:
        by = f"sum by ({self.node_label})"
        return (
            f'{by} (irate(node_cpu_seconds_total{{mode!~"idle|iowait|steal"}}[{self.window}]))',
            f'count by ({self.node_label}) (node_cpu_seconds_total{{mode="idle"}})',
            f"{by} (node_memory_MemTotal_bytes - node_memory_MemAvailable_bytes)",
            f"{by} (node_memory_MemTotal_bytes)",
        )


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def namespace_matcher(namespaces: frozenset[str], asked: str | None) -> str | None:
    """The PromQL matcher that keeps a top query inside the agent's namespaces;
    None when ``asked`` is outside them."""
    if asked:
        if ALL_NAMESPACES not in namespaces and asked not in namespaces:
            return None
        return f",namespace={_quote(asked)}"
    if ALL_NAMESPACES in namespaces:
        return ""
    allowed = "|".join(re.escape(n) for n in sorted(namespaces))
    return f",namespace=~{_quote(allowed)}"


def _value(series: Series) -> float:
    return series.points[-1][1] if series.points else 0.0


def _by(series: list[Series], *keys: str) -> dict[tuple[str, ...], float]:
    return {tuple(s.labels.get(k, "") for k in keys): _value(s) for s in series}


async def kubectl_top(
    api: PrometheusApi,
    queries: TopQueries,
    params: Mapping[str, Any],
    namespaces: frozenset[str],
    max_rows: int,
    timeout: float,
) -> ToolResult:
    kind = str(params.get("kind") or "pods")
    if kind not in ("pods", "nodes"):
        why = f"kubectl top supports pods and nodes, not {kind!r}"
        return ToolResult(ToolStatus.ERROR, f"error: {why}", error=why)
    if kind == "nodes":
        cpu_q, cores_q, mem_q, total_q = queries.nodes()
        cpu, cores, mem, total = await asyncio.gather(
            *(api.instant(q, timeout) for q in (cpu_q, cores_q, mem_q, total_q))
        )
        label = queries.node_label
        used, count, memory, capacity = (_by(x, label) for x in (cpu, cores, mem, total))
        names = sorted(set(used) | set(memory))
        rows = [
            NodeUsage(
                _node_name(key[0]),
                used.get(key),
                memory.get(key),
                count.get(key),
                capacity.get(key),
            )
            for key in names
        ]
        return render_nodes(rows, max_rows, NODE_SOURCE)
    asked = str(params.get("namespace") or "") or None
    matcher = namespace_matcher(namespaces, asked)
    if matcher is None:
        why = f"namespace {asked!r} is outside this agent's boundaries"
        return ToolResult(ToolStatus.DENIED, "", error=why)
    cpu_q, mem_q = queries.pods(matcher)
    cpu_series, mem_series = await asyncio.gather(
        api.instant(cpu_q, timeout), api.instant(mem_q, timeout)
    )
    cpu_by, mem_by = _by(cpu_series, "namespace", "pod"), _by(mem_series, "namespace", "pod")
    pods = [
        PodUsage(ns, pod, cpu_by.get((ns, pod), 0.0), mem_by.get((ns, pod), 0.0))
        for ns, pod in sorted(set(cpu_by) | set(mem_by))
    ]
    return render_pods(pods, asked, max_rows, SOURCE)


def _node_name(raw: str) -> str:
    """node_exporter's ``instance`` is host:port; kubectl top names the host."""
    m = _PORT.match(raw)
    return m.group(1) if m else raw
