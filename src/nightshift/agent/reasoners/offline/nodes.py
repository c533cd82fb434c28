"""Node-level faults from ``node_diagnostics``: the layer below the pods.

A kubelet, container runtime or CNI plugin that fails shows as node
conditions, not as pod errors: pods on the node keep their last reported
state (often Running) while the node's ``Ready`` condition turns False or
Unknown with the component's own message. Each block of the tool's answer is
one node; its abnormal conditions become findings on that Node, the object
the repair acts on. A node that runs none of the agent's pods is another
team's incident (or a deliberately cordoned pool) and is left out.
"""

from __future__ import annotations

import re

from nightshift.agent.reasoners.offline.findings import Analysis, Finding
from nightshift.agent.reasoners.offline.timeline import parse_time
from nightshift.domain.diagnosis import ResourceRef

_BLOCK = re.compile(r"^Node ([a-z0-9][a-z0-9.-]*):[^\n]*$", re.M)
_CONDITION = re.compile(
    r"^\s+(Ready|MemoryPressure|DiskPressure|PIDPressure|NetworkUnavailable)\s+"
    r"(True|False|Unknown)\s+(\S+)\s+(.*)$",
    re.M,
)
_OUR_PODS = re.compile(r"^Pods of this agent's namespaces on this node:\s+(\d+)", re.M)
# What the kubelet writes into a Ready=False/Unknown condition, by component.
_READY_CAUSES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("kubelet-stopped", re.compile(r"Kubelet stopped posting node status|NodeStatusUnknown")),
    (
        "cni-fail",
        re.compile(r"NetworkPluginNotReady|cni plugin not initialized|cni config uninitialized"),
    ),
    (
        "runtime-down",
        re.compile(
            r"container runtime is down|container runtime (status check )?(failed|not ready)|"
            r"containerd\.sock|cri-o|dockershim",
            re.I,
        ),
    ),
)
# Ready=True but a pressure condition is set: the kubelet evicts and refuses pods.
_PRESSURE = {
    "MemoryPressure": "node-cond-memory",
    "DiskPressure": "node-cond-disk",
    "PIDPressure": "node-cond-notready",
    "NetworkUnavailable": "cni-fail",
}


def node_findings(text: str, out: Analysis) -> None:
    heads = list(_BLOCK.finditer(text))
    for i, head in enumerate(heads):
        end = heads[i + 1].start() if i + 1 < len(heads) else len(text)
        block = text[head.start() : end]
        ours = _OUR_PODS.search(block)
        if ours and int(ours.group(1)) == 0:
            continue
        node = ResourceRef("Node", head.group(1))
        for kind, status, reason, message in _CONDITION.findall(block):
            line = " ".join(f"Node {node.name}: {kind} {status} {reason} {message}".split())
            signal = _signal(kind, status, f"{reason} {message}")
            if signal:
                out.findings.append(Finding(signal, node, line[:240], parse_time(message)))


def _signal(kind: str, status: str, message: str) -> str | None:
    if kind == "Ready":
        if status == "True":
            return None
        # PLEG (the kubelet's pod-state relist) falling behind names no single
        # component: runtime, load or the kubelet itself; the node is NotReady.
        for signal, pattern in _READY_CAUSES:
            if pattern.search(message):
                return signal
        return "node-cond-notready"
    return _PRESSURE.get(kind) if status == "True" else None
