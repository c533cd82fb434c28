"""``kubectl top`` from metrics.k8s.io (metrics-server), for the kubernetes source.

The cluster serves the resource metrics API only when metrics-server (or an
adapter) is installed; ``served`` tells, and a caller falls back to the
prometheus source's cAdvisor series otherwise. Calls are synchronous, like
``KubeApi`` (the kubernetes toolset runs them in a thread). The phase
ServiceAccount needs ``get``/``list`` on ``pods`` and ``nodes`` in the
``metrics.k8s.io`` group, and ``list`` on ``nodes`` for the percentages.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Protocol

from nightshift.agent.tools.protocol import ToolResult, ToolStatus
from nightshift.domain.agents import ALL_NAMESPACES
from nightshift.sources.kubectl_top import (
    NodeUsage,
    PodUsage,
    cpu_cores,
    memory_bytes,
    render_nodes,
    render_pods,
)

GROUP = "/apis/metrics.k8s.io/v1beta1"
SOURCE = "from metrics.k8s.io"
NOT_SERVED = "error: Metrics API not available"
_NAMESPACE = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


class Reader(Protocol):
    """What this module needs of ``nightshift.k8s.client.KubeApi``."""

    def get(self, path: str, query: Mapping[str, Any] | None = None) -> Any: ...


def _status(exc: Exception) -> int | None:
    status = getattr(exc, "status", None)
    return status if isinstance(status, int) else None


def served(api: Reader) -> bool:
    """True when the API server serves metrics.k8s.io (404/503 when no metrics-server)."""
    try:
        api.get(GROUP)
    except Exception as exc:
        if _status(exc) in (404, 503):
            return False
        raise
    return True


def _pod(item: Mapping[str, Any]) -> PodUsage:
    meta = item.get("metadata") or {}
    cpu = mem = 0.0
    for container in item.get("containers") or ():
        usage = container.get("usage") or {}
        cpu += cpu_cores(str(usage.get("cpu", "0")))
        mem += memory_bytes(str(usage.get("memory", "0")))
    return PodUsage(str(meta.get("namespace", "")), str(meta.get("name", "")), cpu, mem)


def top_pods(
    api: Reader, namespaces: frozenset[str], namespace: str | None, max_rows: int = 200
) -> ToolResult:
    """``kubectl top pods [-n NS]`` within the agent's ``namespaces``."""
    everywhere = ALL_NAMESPACES in namespaces
    if namespace and not _NAMESPACE.match(namespace):
        why = f"{namespace!r} is not a namespace name"
        return ToolResult(ToolStatus.ERROR, f"error: {why}", error=why)
    if namespace and not everywhere and namespace not in namespaces:
        why = f"namespace {namespace!r} is outside this agent's boundaries"
        return ToolResult(ToolStatus.DENIED, "", error=why)
    if not served(api):
        return ToolResult(ToolStatus.NO_DATA, NOT_SERVED, error=NOT_SERVED)
    if namespace:
        paths = [f"{GROUP}/namespaces/{namespace}/pods"]
    elif everywhere:
        paths = [f"{GROUP}/pods"]
    else:
        paths = [f"{GROUP}/namespaces/{ns}/pods" for ns in sorted(namespaces)]
    rows = [_pod(item) for path in paths for item in (api.get(path).get("items") or ())]
    return render_pods(rows, namespace, max_rows, SOURCE)


def top_nodes(api: Reader, max_rows: int = 200) -> ToolResult:
    """``kubectl top nodes``: usage against each node's allocatable, as kubectl prints it."""
    if not served(api):
        return ToolResult(ToolStatus.NO_DATA, NOT_SERVED, error=NOT_SERVED)
    usage = {
        str((item.get("metadata") or {}).get("name", "")): item.get("usage") or {}
        for item in api.get(f"{GROUP}/nodes").get("items") or ()
    }
    rows = []
    for node in api.get("/api/v1/nodes").get("items") or ():
        name = str((node.get("metadata") or {}).get("name", ""))
        alloc = (node.get("status") or {}).get("allocatable") or {}
        used = usage.get(name)
        rows.append(
            NodeUsage(
                name,
                cpu_cores(str(used["cpu"])) if used and "cpu" in used else None,
                memory_bytes(str(used["memory"])) if used and "memory" in used else None,
                cpu_cores(str(alloc["cpu"])) if "cpu" in alloc else None,
                memory_bytes(str(alloc["memory"])) if "memory" in alloc else None,
            )
        )
    return render_nodes(rows, max_rows, SOURCE)
