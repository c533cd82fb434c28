"""``node_diagnostics`` in the simulated world, in the live tool's shape (k8s/nodes.py):
conditions with reasons and transitions, taints, cordon, kubelet, kube-system
components, the pods on the node and its events."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from nightshift.agent.tools.protocol import ToolResult
from nightshift.k8s.kubectl_time import human_duration
from nightshift.scenarios.clock import at, rfc3339
from nightshift.scenarios.cluster import statuses
from nightshift.scenarios.describe_other import node_conditions, node_taints
from nightshift.scenarios.kube_model import Node, Pod
from nightshift.scenarios.model import WorldState
from nightshift.scenarios.render_get import node_status
from nightshift.scenarios.tabular import table
from nightshift.scenarios.tools_kube import no_data, ok

_COMPONENTS = re.compile(
    r"^(kube-proxy|coredns|kube-dns|node-local-dns|calico|cilium|flannel|kube-flannel|weave|"
    r"canal|antrea|kindnet|aws-node|azure-cni|kube-router|multus|ovnkube|konnectivity)"
)
_NO_PROXY = "not checked: this identity may not get nodes/proxy (RBAC)"
_BAD_WHEN_TRUE = frozenset({"MemoryPressure", "DiskPressure", "PIDPressure", "NetworkUnavailable"})


def problems(node: Node) -> list[str]:
    out = []
    for c in node_conditions(node):
        if (c.type == "Ready" and c.status != "True") or (
            c.type in _BAD_WHEN_TRUE and c.status != "False"
        ):
            out.append(f"{c.type}={c.status}")
    if node.unschedulable:
        out.append("cordoned")
    return out


def node_diagnostics(state: WorldState, now: datetime, p: Mapping[str, Any]) -> ToolResult:
    name = str(p.get("node") or "").strip()
    if name:
        node = next((n for n in state.nodes if n.name == name), None)
        if node is None:
            return no_data(f'Error from server (NotFound): nodes "{name}" not found')
        return ok(_detail(state, node, now), {"nodes": {name: problems(node)}})
    if not state.nodes:
        return no_data("No nodes found.")
    rows, unhealthy = [], []
    for node in sorted(state.nodes, key=lambda n: n.name):
        found = problems(node)
        rows.append(
            [node.name, node_status(node), ", ".join(found) or "-", str(len(node_taints(node)))]
        )
        if found:
            unhealthy.append(node)
    blocks = [table(["NAME", "STATUS", "PROBLEMS", "TAINTS"], rows)]
    if not unhealthy:
        blocks.append(f"All {len(state.nodes)} nodes Ready without pressure or cordon.")
    blocks += [_detail(state, n, now) for n in unhealthy[:5]]
    return ok("\n\n".join(blocks), {"nodes": {n.name: problems(n) for n in state.nodes}})


def _detail(state: WorldState, node: Node, now: datetime) -> str:
    rows = [
        [
            c.type,
            c.status,
            c.reason,
            f"{rfc3339(at(now, c.since))} ({human_duration(c.since)} ago)",
            c.message,
        ]
        for c in node_conditions(node)
    ]
    heartbeat = node.ready_since if node.ready == "Unknown" else 20
    lines = [f"Node {node.name}: {node_status(node)}", "Conditions:"]
    lines += [
        "  " + r
        for r in table(
            ["TYPE", "STATUS", "REASON", "LAST TRANSITION", "MESSAGE"], rows
        ).splitlines()
    ]
    lines.append("Taints: " + (", ".join(node_taints(node)) or "<none>"))
    lines.append("Cordoned: " + ("yes (spec.unschedulable)" if node.unschedulable else "no"))
    lines.append(f"Kubelet: {node.version}, last status heartbeat {human_duration(heartbeat)} ago")
    # The phase ServiceAccount never holds nodes/proxy by default (k8s/permissions.py).
    lines.append(f"Kubelet /healthz (API server node proxy): {_NO_PROXY}")
    components = [
        pod for pod in state.pods
        if pod.namespace == "kube-system" and _COMPONENTS.match(pod.name)
        and (pod.node == node.name or "dns" in pod.name)
    ]  # fmt: skip
    if components:
        lines.append("kube-system components (on this node; DNS wherever it runs):")
        comp_rows = [_pod_row(state, pod) for pod in sorted(components, key=lambda x: x.name)]
        lines += [
            "  " + r
            for r in table(["NAME", "READY", "STATUS", "RESTARTS", "NODE"], comp_rows).splitlines()
        ]
    else:
        lines.append("kube-system components: none found on this node (kube-proxy, DNS, CNI)")
    on_node = [
        pod for pod in state.pods if pod.node == node.name and pod.namespace != "kube-system"
    ]
    phases: dict[str, int] = {}
    for pod in on_node:
        phases[pod.phase] = phases.get(pod.phase, 0) + 1
    counts = ", ".join(f"{k} {v}" for k, v in sorted(phases.items())) or "none"
    lines.append(f"Pods of this agent's namespaces on this node: {len(on_node)} ({counts})")
    for pod in [x for x in on_node if x.phase not in ("Running", "Succeeded")][:10]:
        lines.append(f"  {pod.namespace}/Pod/{pod.name}: {pod.phase}")
    events = sorted(
        (e for e in state.events if e.kind == "Node" and e.name == node.name),
        key=lambda e: e.last_seen,
    )
    if events:
        lines.append("Node events (newest first):")
        lines += [
            f"  {human_duration(e.last_seen):>6}  {e.type}  {e.reason}  {e.message}"
            for e in events[:10]
        ]
    return "\n".join(lines)


def _pod_row(state: WorldState, pod: Pod) -> list[str]:
    sts = statuses(state, pod)
    ready = sum(1 for s in sts if s.ready or (s.ready is None and s.state == "running"))
    status = next((s.reason for s in sts if s.state == "waiting" and s.reason), None) or pod.phase
    restarts = sum(s.restarts for s in sts)
    return [pod.name, f"{ready}/{len(sts)}", status, str(restarts), pod.node or "<none>"]
