"""``node_diagnostics``: is a node (or the node layer) healthy, read-only.

Conditions with their reasons and last transitions, taints and cordons, the
kube-system components that make a node useful (kube-proxy, DNS, the CNI
agent), this agent's pods on it, and the kubelet's own ``/healthz`` through
the API server's node proxy. That proxy needs ``nodes/proxy`` get, which the
phase ServiceAccount holds only where an operator granted it (it also reaches
the kubelet's other endpoints); without it the answer says so and relies on
the conditions the kubelet posts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from nightshift.agent.tools.protocol import ToolResult, ToolStatus
from nightshift.k8s.client import KubeError, resource_path
from nightshift.k8s.reads import Lister, Obj, Scopes, event_time, human_age, meta, parse_time, table

KUBE_SYSTEM = "kube-system"
MAX_DETAILED = 5
# kube-system pods a node depends on: proxy, DNS, and the common CNI agents.
COMPONENTS = re.compile(
    r"^(kube-proxy|coredns|kube-dns|node-local-dns|calico|cilium|flannel|kube-flannel|weave|"
    r"canal|antrea|kindnet|aws-node|azure-cni|kube-router|multus|ovnkube|konnectivity)",
)
_HEALTHY_WHEN_FALSE = frozenset(
    {"MemoryPressure", "DiskPressure", "PIDPressure", "NetworkUnavailable"}
)


def node_status(node: Obj) -> str:
    """kubectl's STATUS column for a node."""
    conds = {
        c.get("type"): c.get("status") for c in (node.get("status") or {}).get("conditions") or []
    }
    ready = conds.get("Ready")
    parts = ["Ready" if ready == "True" else "NotReady" if ready == "False" else "Unknown"]
    if (node.get("spec") or {}).get("unschedulable"):
        parts.append("SchedulingDisabled")
    return ",".join(parts)


def problems(node: Obj) -> list[str]:
    out = []
    for c in (node.get("status") or {}).get("conditions") or []:
        kind, status = str(c.get("type", "")), str(c.get("status", ""))
        bad = (
            status != "True"
            if kind == "Ready"
            else (kind in _HEALTHY_WHEN_FALSE and status != "False")
        )
        if bad:
            out.append(f"{kind}={status}")
    if (node.get("spec") or {}).get("unschedulable"):
        out.append("cordoned")
    return out


def node_diagnostics(
    lister: Lister, scopes: Scopes, params: Mapping[str, Any], now: datetime
) -> ToolResult:
    name = str(params.get("node") or "").strip()
    if name:
        node = lister.api.get(resource_path("v1", "nodes", None, name))
        text = detail(lister, scopes, node, now)
        return ToolResult(ToolStatus.OK, text, {"nodes": {name: problems(node)}})
    nodes = lister.items("v1", "nodes", None)
    if not nodes:
        return ToolResult(ToolStatus.NO_DATA, "No nodes found." + lister.note())
    rows = []
    unhealthy = []
    for node in sorted(nodes, key=lambda n: str(meta(n).get("name"))):
        found = problems(node)
        taints = len((node.get("spec") or {}).get("taints") or [])
        rows.append(
            [str(meta(node).get("name")), node_status(node), ", ".join(found) or "-", str(taints)]
        )
        if found:
            unhealthy.append(node)
    blocks = [table(["NAME", "STATUS", "PROBLEMS", "TAINTS"], rows)]
    if not unhealthy:
        blocks.append(f"All {len(nodes)} nodes Ready without pressure or cordon.")
    for node in unhealthy[:MAX_DETAILED]:
        blocks.append(detail(lister, scopes, node, now))
    if len(unhealthy) > MAX_DETAILED:
        blocks.append(
            f"... {len(unhealthy) - MAX_DETAILED} more unhealthy nodes (ask for one by name)"
        )
    data = {"nodes": {str(meta(n).get("name")): problems(n) for n in nodes}}
    return ToolResult(ToolStatus.OK, "\n\n".join(blocks) + lister.note(), data)


def detail(lister: Lister, scopes: Scopes, node: Obj, now: datetime) -> str:
    name = str(meta(node).get("name"))
    status, spec = node.get("status") or {}, node.get("spec") or {}
    lines = [f"Node {name}: {node_status(node)}"]
    rows = []
    for c in status.get("conditions") or []:
        moved = parse_time(c.get("lastTransitionTime"))
        since = (
            f"{c.get('lastTransitionTime')} ({human_age((now - moved).total_seconds())} ago)"
            if moved
            else "-"
        )
        rows.append(
            [
                str(c.get("type", "")),
                str(c.get("status", "")),
                str(c.get("reason", "")),
                since,
                " ".join(str(c.get("message", "")).split())[:160],
            ]
        )
    lines.append("Conditions:")
    lines += [
        "  " + r
        for r in table(
            ["TYPE", "STATUS", "REASON", "LAST TRANSITION", "MESSAGE"], rows
        ).splitlines()
    ]
    taints = [
        f"{t.get('key')}{'=' + t['value'] if t.get('value') else ''}:{t.get('effect')}"
        for t in spec.get("taints") or []
    ]
    lines.append("Taints: " + (", ".join(taints) or "<none>"))
    lines.append("Cordoned: " + ("yes (spec.unschedulable)" if spec.get("unschedulable") else "no"))
    info = status.get("nodeInfo") or {}
    beats = [parse_time(c.get("lastHeartbeatTime")) for c in status.get("conditions") or []]
    latest = max((b for b in beats if b), default=None)
    beat = (
        f", last status heartbeat {human_age((now - latest).total_seconds())} ago" if latest else ""
    )
    lines.append(f"Kubelet: {info.get('kubeletVersion', '<unknown>')}{beat}")
    lines.append("Kubelet /healthz (API server node proxy): " + kubelet_health(lister, name))
    lines += _components(lister, scopes, name)
    lines += _agent_pods(lister, scopes, name)
    lines += _node_events(lister, scopes, name, now)
    return "\n".join(lines)


def kubelet_health(lister: Lister, name: str) -> str:
    try:
        answer = lister.api.get_text(resource_path("v1", "nodes", None, name, "proxy/healthz"))
    except KubeError as exc:
        if exc.status == 403:
            return "not checked: this identity may not get nodes/proxy (RBAC)"
        return f"FAILED: {exc.status} {exc.reason}: {' '.join(exc.message.split())[:200]}"
    return " ".join(answer.split())[:200] or "(empty answer)"


def _components(lister: Lister, scopes: Scopes, name: str) -> list[str]:
    try:
        scope = scopes(KUBE_SYSTEM)
    except PermissionError:
        return ["kube-system components: not read (kube-system is outside this agent's namespaces)"]
    pods = [
        p
        for ns in scope
        for p in lister.items("v1", "pods", ns)
        if COMPONENTS.match(str(meta(p).get("name", "")))
        and ((p.get("spec") or {}).get("nodeName") == name or "dns" in str(meta(p).get("name")))
    ]
    if not pods:
        return ["kube-system components: none found on this node (kube-proxy, DNS, CNI)"]
    rows = [_pod_row(p) for p in sorted(pods, key=lambda p: str(meta(p).get("name")))]
    out = ["kube-system components (on this node; DNS wherever it runs):"]
    return out + [
        "  " + r for r in table(["NAME", "READY", "STATUS", "RESTARTS", "NODE"], rows).splitlines()
    ]


def _pod_row(pod: Obj) -> list[str]:
    st = pod.get("status") or {}
    statuses = st.get("containerStatuses") or []
    ready = sum(1 for c in statuses if c.get("ready"))
    total = len((pod.get("spec") or {}).get("containers") or [])
    phase = str(st.get("phase", "Unknown"))
    for c in statuses:
        waiting = (c.get("state") or {}).get("waiting") or {}
        if waiting.get("reason"):
            phase = str(waiting["reason"])
    restarts = sum(int(c.get("restartCount", 0)) for c in statuses)
    return [
        str(meta(pod).get("name")),
        f"{ready}/{total}",
        phase,
        str(restarts),
        str((pod.get("spec") or {}).get("nodeName") or "<none>"),
    ]


def _agent_pods(lister: Lister, scopes: Scopes, name: str) -> list[str]:
    pods = [
        p
        for ns in scopes(None)
        for p in lister.items("v1", "pods", ns, {"fieldSelector": f"spec.nodeName={name}"})
    ]
    phases: dict[str, int] = {}
    for p in pods:
        phase = str((p.get("status") or {}).get("phase", "Unknown"))
        phases[phase] = phases.get(phase, 0) + 1
    counts = ", ".join(f"{k} {v}" for k, v in sorted(phases.items())) or "none"
    out = [f"Pods of this agent's namespaces on this node: {len(pods)} ({counts})"]
    stuck = [
        p for p in pods if (p.get("status") or {}).get("phase") not in ("Running", "Succeeded")
    ]
    for p in stuck[:10]:
        shown = (p.get("status") or {}).get("phase")
        out.append(f"  {meta(p).get('namespace')}/Pod/{meta(p).get('name')}: {shown}")
    return out


def _node_events(lister: Lister, scopes: Scopes, name: str, now: datetime) -> list[str]:
    # The kubelet and node controller record node events in the default namespace.
    try:
        scope = scopes("default")
    except PermissionError:
        return []
    selector = {"fieldSelector": f"involvedObject.kind=Node,involvedObject.name={name}"}
    events = [e for ns in scope for e in lister.items("v1", "events", ns, selector, limit=50)]
    if not events:
        return ["Node events: <none>"]
    events.sort(key=lambda e: str(event_time(e) or ""), reverse=True)
    out = ["Node events (newest first):"]
    for e in events[:10]:
        when = event_time(e)
        age = human_age((now - when).total_seconds()) if when else "<unknown>"
        message = " ".join(str(e.get("message", "")).split())[:160]
        out.append(f"  {age:>6}  {e.get('type', '')}  {e.get('reason', '')}  {message}")
    return out
