"""``kubectl top`` as kubectl prints it, whatever measured the usage.

Both metrics.k8s.io (``metrics_api``) and Prometheus' cAdvisor and
node_exporter series (``prometheus_top``) produce these rows; one renderer keeps
the two answers identical, and identical to the simulated world's, so the
reasoner reads them the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from nightshift.agent.tools.columns import table
from nightshift.agent.tools.protocol import ToolResult, ToolStatus
from nightshift.domain.quantity import parse_quantity

MI = 1024 * 1024
# The guard's marker names characters; these name the rows that were left out.
ROWS_MARKER = "[truncated by nightshift: {dropped} more {what} not shown; {hint}]"


@dataclass(frozen=True, slots=True)
class PodUsage:
    namespace: str
    name: str
    cpu_cores: float
    memory_bytes: float


@dataclass(frozen=True, slots=True)
class NodeUsage:
    name: str
    cpu_cores: float | None  # None: the node reports nothing (kubectl prints <unknown>)
    memory_bytes: float | None
    cpu_capacity: float | None = None  # cores the percentage is of
    memory_capacity: float | None = None


def millicores(cores: float) -> str:
    return f"{int(cores * 1000 + 0.5)}m"  # half up, not to even: 1234.5m prints 1235m


def mebibytes(size: float) -> str:
    return f"{int(size // MI)}Mi"


def _percent(used: float | None, capacity: float | None) -> str:
    if used is None or not capacity:
        return "<unknown>"
    return f"{int(used * 100 // capacity)}%"


def render_pods(
    rows: Sequence[PodUsage], namespace: str | None, max_rows: int, source: str
) -> ToolResult:
    """``namespace`` None: every allowed namespace, printed with a NAMESPACE column (-A)."""
    if not rows:
        where = f" in {namespace} namespace" if namespace else ""
        return ToolResult(ToolStatus.NO_DATA, f"No resources found{where}. ({source})")
    ordered = sorted(rows, key=lambda r: (r.namespace, r.name))
    shown = ordered[:max_rows]
    body = [
        [r.name, millicores(r.cpu_cores), mebibytes(r.memory_bytes)]
        if namespace
        else [r.namespace, r.name, millicores(r.cpu_cores), mebibytes(r.memory_bytes)]
        for r in shown
    ]
    head = ["NAME", "CPU(cores)", "MEMORY(bytes)"]
    text = table(head if namespace else ["NAMESPACE", *head], body)
    if len(ordered) > len(shown):
        text += "\n" + ROWS_MARKER.format(
            dropped=len(ordered) - len(shown), what="pods", hint="pass a namespace"
        )
    data = {
        "source": source,
        "pods": [
            {
                "namespace": r.namespace,
                "name": r.name,
                "cpu_cores": r.cpu_cores,
                "memory_bytes": r.memory_bytes,
            }
            for r in shown
        ],
        "total": len(ordered),
    }
    return ToolResult(ToolStatus.OK, text, data)


def render_nodes(rows: Sequence[NodeUsage], max_rows: int, source: str) -> ToolResult:
    if not rows:
        return ToolResult(ToolStatus.NO_DATA, f"No resources found. ({source})")
    ordered = sorted(rows, key=lambda r: r.name)
    shown = ordered[:max_rows]
    body = [
        [
            r.name,
            millicores(r.cpu_cores) if r.cpu_cores is not None else "<unknown>",
            _percent(r.cpu_cores, r.cpu_capacity),
            mebibytes(r.memory_bytes) if r.memory_bytes is not None else "<unknown>",
            _percent(r.memory_bytes, r.memory_capacity),
        ]
        for r in shown
    ]
    text = table(["NAME", "CPU(cores)", "CPU%", "MEMORY(bytes)", "MEMORY%"], body)
    if len(ordered) > len(shown):
        text += "\n" + ROWS_MARKER.format(
            dropped=len(ordered) - len(shown), what="nodes", hint="ask Prometheus for them"
        )
    data = {
        "source": source,
        "nodes": [
            {"name": r.name, "cpu_cores": r.cpu_cores, "memory_bytes": r.memory_bytes}
            for r in shown
        ],
        "total": len(ordered),
    }
    return ToolResult(ToolStatus.OK, text, data)


def cpu_cores(quantity: str) -> float:
    """A Kubernetes CPU quantity ("250m", "1", "123456789n") in cores."""
    return float(parse_quantity(quantity))


def memory_bytes(quantity: str) -> float:
    """A Kubernetes memory quantity ("128Mi", "1G", "12345Ki") in bytes."""
    return float(parse_quantity(quantity))
