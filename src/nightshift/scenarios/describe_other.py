"""``kubectl describe`` for nodes, services and the smaller kinds."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from nightshift.k8s.kubectl_time import human_duration
from nightshift.scenarios.clock import at, rfc1123
from nightshift.scenarios.cluster import ReplicaSetView, endpoints, pod_template
from nightshift.scenarios.describe_sections import (
    container_spec_lines,
    container_tail_lines,
    events_for,
    events_section,
    kv,
    multiline_labels,
)
from nightshift.scenarios.kube_model import (
    ConfigMap,
    Job,
    Namespace,
    NetworkPolicy,
    Node,
    NodeCondition,
    PersistentVolumeClaim,
    PolicyPeer,
    ResourceQuota,
    Secret,
    Service,
)
from nightshift.scenarios.model import WorldState
from nightshift.scenarios.quantity import cpu_millis, format_cpu, format_memory, memory_bytes
from nightshift.scenarios.quantity import percent as pct
from nightshift.scenarios.render_get import endpoints_text, node_labels
from nightshift.scenarios.tabular import labels_text, table

_HEALTHY = {
    "MemoryPressure": ("KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
    "DiskPressure": ("KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
    "PIDPressure": ("KubeletHasSufficientPID", "kubelet has sufficient PID available"),
}


def node_conditions(node: Node) -> list[NodeCondition]:
    unknown = node.ready == "Unknown"
    conds: list[NodeCondition] = []
    for ctype, (reason, message) in _HEALTHY.items():
        if unknown:
            conds.append(
                NodeCondition(
                    type=ctype,
                    status="Unknown",
                    reason="NodeStatusUnknown",
                    message="Kubelet stopped posting node status.",
                    since=node.ready_since,
                )
            )
        else:
            conds.append(NodeCondition(type=ctype, status="False", reason=reason, message=message))
    if node.ready == "True":
        ready = ("KubeletReady", "kubelet is posting ready status")
    elif unknown:
        ready = ("NodeStatusUnknown", "Kubelet stopped posting node status.")
    else:
        ready = ("KubeletNotReady", "container runtime is down")
    conds.append(
        NodeCondition(
            type="Ready",
            status=node.ready,
            reason=node.ready_reason or ready[0],
            message=node.ready_message or ready[1],
            since=node.ready_since,
        )
    )
    overrides = {c.type: c for c in node.conditions}
    return [overrides.pop(c.type, c) for c in conds] + list(overrides.values())


def node_taints(node: Node) -> list[str]:
    taints = [f"{t.key}{'=' + t.value if t.value else ''}:{t.effect}" for t in node.taints]
    if node.ready == "Unknown":
        taints += [
            "node.kubernetes.io/unreachable:NoExecute",
            "node.kubernetes.io/unreachable:NoSchedule",
        ]
    elif node.ready == "False":
        taints += [
            "node.kubernetes.io/not-ready:NoExecute",
            "node.kubernetes.io/not-ready:NoSchedule",
        ]
    if node.unschedulable:
        taints.append("node.kubernetes.io/unschedulable:NoSchedule")
    return taints


def describe_node(state: WorldState, node: Node, now: datetime) -> str:
    taints = node_taints(node)
    alloc = node.allocatable or node.capacity
    heartbeat = node.ready_since if node.ready == "Unknown" else 20
    cond_rows = [
        [
            c.type,
            c.status,
            rfc1123(at(now, heartbeat)),
            rfc1123(at(now, c.since)),
            c.reason,
            c.message,
        ]
        for c in node_conditions(node)
    ]
    lines = [
        kv("Name", node.name, 20),
        kv("Roles", ",".join(node.roles) or "<none>", 20),
        kv("Labels", multiline_labels(node_labels(node), 20), 20),
        kv("Annotations", "node.alpha.kubernetes.io/ttl: 0", 20),
        kv("CreationTimestamp", rfc1123(at(now, node.age)), 20),
        kv("Taints", ("\n" + " " * 20).join(taints) or "<none>", 20),
        kv("Unschedulable", str(node.unschedulable).lower(), 20),
        "Lease:",
        kv("HolderIdentity", node.name, 17, 2),
        kv("AcquireTime", "<unset>", 17, 2),
        kv("RenewTime", rfc1123(at(now, heartbeat)), 17, 2),
        "Conditions:",
    ]
    lines += [
        "  " + x
        for x in table(
            ["Type", "Status", "LastHeartbeatTime", "LastTransitionTime", "Reason", "Message"],
            [
                ["----", "------", "-----------------", "------------------", "------", "-------"],
                *cond_rows,
            ],
            padding=2,
        ).splitlines()
    ]
    lines += [
        "Addresses:",
        kv("InternalIP", node.internal_ip or "", 13, 2),
        kv("Hostname", node.name, 13, 2),
        "Capacity:",
    ]
    lines += [kv(k, v, 20, 2) for k, v in node.capacity.items()]
    lines.append("Allocatable:")
    lines += [kv(k, v, 20, 2) for k, v in alloc.items()]
    lines += [
        "System Info:",
        kv("Kernel Version", node.kernel, 28, 2),
        kv("OS Image", node.os_image, 28, 2),
        kv("Operating System", "linux", 28, 2),
        kv("Architecture", "amd64", 28, 2),
        kv("Container Runtime Version", node.runtime, 28, 2),
        kv("Kubelet Version", node.version, 28, 2),
    ]
    pods = [
        p
        for p in state.pods
        if p.node == node.name and p.phase in ("Running", "Pending", "Unknown")
    ]
    rows = []
    cpu_req = cpu_lim = mem_req = mem_lim = 0
    for p in pods:
        containers = pod_template(state, p).containers
        req_c = sum(cpu_millis(c.resources.requests.get("cpu", "0")) for c in containers)
        lim_c = sum(cpu_millis(c.resources.limits.get("cpu", "0")) for c in containers)
        req_m = sum(memory_bytes(c.resources.requests.get("memory", "0")) for c in containers)
        lim_m = sum(memory_bytes(c.resources.limits.get("memory", "0")) for c in containers)
        cpu_req, cpu_lim, mem_req, mem_lim = (
            cpu_req + req_c,
            cpu_lim + lim_c,
            mem_req + req_m,
            mem_lim + lim_m,
        )
        a_cpu, a_mem = cpu_millis(alloc.get("cpu", "1")), memory_bytes(alloc.get("memory", "1"))
        rows.append(
            [
                p.namespace,
                p.name,
                f"{format_cpu(req_c)} ({pct(req_c, a_cpu)}%)",
                f"{format_cpu(lim_c)} ({pct(lim_c, a_cpu)}%)",
                f"{format_memory(req_m)} ({pct(req_m, a_mem)}%)",
                f"{format_memory(lim_m)} ({pct(lim_m, a_mem)}%)",
                human_duration(p.age),
            ]
        )
    a_cpu, a_mem = cpu_millis(alloc.get("cpu", "1")), memory_bytes(alloc.get("memory", "1"))
    lines.append(f"Non-terminated Pods:          ({len(pods)} in total)")
    lines += [
        "  " + x
        for x in table(
            [
                "Namespace",
                "Name",
                "CPU Requests",
                "CPU Limits",
                "Memory Requests",
                "Memory Limits",
                "Age",
            ],
            [
                [
                    "---------",
                    "----",
                    "------------",
                    "----------",
                    "---------------",
                    "-------------",
                    "---",
                ],
                *rows,
            ],
            padding=2,
        ).splitlines()
    ]
    lines += [
        "Allocated resources:",
        "  (Total limits may be over 100 percent, i.e., overcommitted.)",
    ]
    lines += [
        "  " + x
        for x in table(
            ["Resource", "Requests", "Limits"],
            [
                ["--------", "--------", "------"],
                [
                    "cpu",
                    f"{format_cpu(cpu_req)} ({pct(cpu_req, a_cpu)}%)",
                    f"{format_cpu(cpu_lim)} ({pct(cpu_lim, a_cpu)}%)",
                ],
                [
                    "memory",
                    f"{format_memory(mem_req)} ({pct(mem_req, a_mem)}%)",
                    f"{format_memory(mem_lim)} ({pct(mem_lim, a_mem)}%)",
                ],
                ["ephemeral-storage", "0 (0%)", "0 (0%)"],
            ],
            padding=2,
        ).splitlines()
    ]
    lines.append(events_section(events_for(state, "Node", node.name, None)))
    return "\n".join(lines)


def describe_service(state: WorldState, svc: Service, now: datetime) -> str:
    w = 26
    lines = [
        kv("Name", svc.name, w),
        kv("Namespace", svc.namespace, w),
        kv("Labels", multiline_labels(svc.labels, w), w),
        kv("Annotations", "<none>", w),
        kv("Selector", labels_text(svc.selector), w),
        kv("Type", svc.type, w),
        kv("IP Family Policy", "SingleStack", w),
        kv("IP Families", "IPv4", w),
        kv("IP", svc.cluster_ip or "None", w),
        kv("IPs", svc.cluster_ip or "None", w),
    ]
    for p in svc.ports:
        lines.append(kv("Port", f"{p.name or '<unset>'}  {p.port}/{p.protocol}", w))
        target = p.target_port if p.target_port is not None else p.port
        lines.append(kv("TargetPort", f"{target}/{p.protocol}", w))
        if p.node_port:
            lines.append(kv("NodePort", f"{p.name or '<unset>'}  {p.node_port}/{p.protocol}", w))
        port_eps = endpoints_text(state, svc, p.name)
        lines.append(kv("Endpoints", "" if port_eps == "<none>" else port_eps, w))
    lines += [kv("Session Affinity", "None", w), kv("Internal Traffic Policy", "Cluster", w)]
    lines.append(events_section(events_for(state, "Service", svc.name, svc.namespace)))
    return "\n".join(lines)


def describe_endpoints(state: WorldState, svc: Service, now: datetime) -> str:
    addrs = endpoints(state, svc)
    ready = ",".join(sorted({a.ip for a in addrs if a.ready})) or "<none>"
    not_ready = ",".join(sorted({a.ip for a in addrs if not a.ready})) or "<none>"
    lines = [
        kv("Name", svc.name, 14),
        kv("Namespace", svc.namespace, 14),
        kv("Labels", multiline_labels(svc.labels, 14), 14),
        kv("Annotations", "<none>", 14),
        "Subsets:",
        kv("Addresses", ready, 20, 2),
        kv("NotReadyAddresses", not_ready, 20, 2),
        "  Ports:",
        "    Name     Port  Protocol",
        "    ----     ----  --------",
    ]
    for p in svc.ports:
        port = next((a.port for a in addrs if a.port_name == p.name), p.port)
        lines.append(f"    {(p.name or '<unset>'):<8} {port:<5} {p.protocol}")
    lines.append("")
    lines.append(events_section(events_for(state, "Endpoints", svc.name, svc.namespace)))
    return "\n".join(lines)


def _peer(peer: PolicyPeer) -> list[str]:
    out = []
    if peer.pod_selector is not None:
        out.append(f"      PodSelector: {labels_text(peer.pod_selector)}")
    if peer.namespace_selector is not None:
        out.append(f"      NamespaceSelector: {labels_text(peer.namespace_selector)}")
    if peer.ip_block:
        out.append(f"      IPBlock:\n        CIDR: {peer.ip_block}\n        Except: ")
    return out


def _selector_text(selector: dict[str, str]) -> str:
    if not selector:
        return "<none> (Allowing the specific traffic to all pods in this namespace)"
    return labels_text(selector)


def describe_netpol(state: WorldState, np: NetworkPolicy, now: datetime) -> str:
    lines = [
        kv("Name", np.name, 14),
        kv("Namespace", np.namespace, 14),
        kv("Created on", at(now, np.age).strftime("%Y-%m-%d %H:%M:%S +0000 UTC"), 14),
        kv("Labels", "<none>", 14),
        kv("Annotations", "<none>", 14),
        "Spec:",
        f"  PodSelector:     {labels_text(np.pod_selector)}",
    ]
    for direction, rules, word in (("Ingress", np.ingress, "From"), ("Egress", np.egress, "To")):
        lines.append(f"  Allowing {direction.lower()} traffic:")
        if direction not in np.policy_types:
            lines[-1] = f"  Not affecting {direction.lower()} traffic"
            continue
        if not rules:
            lines.append(
                f"    <none> (Selected pods are isolated for {direction.lower()} connectivity)"
            )
        for i, peer in enumerate(rules):
            if i:
                lines.append("    ----------")
            ports = ", ".join(peer.ports) or "<any> (traffic allowed to all ports)"
            lines.append(f"    To Port: {ports}")
            lines.append(f"    {word}:")
            lines += _peer(peer) or ["      <any> (traffic not restricted by destination)"]
    lines.append(f"  Policy Types: {', '.join(np.policy_types)}")
    return "\n".join(lines)


def describe_simple(state: WorldState, obj: Any, kind: str, now: datetime) -> str:
    """ConfigMap, Secret, PVC, Job, ResourceQuota, Namespace, ReplicaSet."""
    ns = getattr(obj, "namespace", None)
    width = {PersistentVolumeClaim: 15, ReplicaSetView: 16}.get(type(obj), 14)
    lines = [kv("Name", obj.name, width)]
    if ns is not None and not isinstance(obj, Namespace):
        lines.append(kv("Namespace", ns, width))
    if isinstance(obj, ConfigMap):
        lines += [kv("Labels", "<none>", 14), kv("Annotations", "<none>", 14), "", "Data", "===="]
        for key, value in obj.data.items():
            lines += [f"{key}:", "----", value.rstrip("\n"), ""]
        lines += ["", "BinaryData", "====", ""]
    elif isinstance(obj, Secret):
        lines += [
            kv("Labels", "<none>", 14),
            kv("Annotations", "<none>", 14),
            "",
            kv("Type", obj.type, 6),
            "",
            "Data",
            "====",
        ]
        lines += [f"{k}:  {16 + len(k)} bytes" for k in obj.keys]
    elif isinstance(obj, PersistentVolumeClaim):
        users = [
            p.name
            for p in state.pods
            if p.namespace == obj.namespace
            and any(
                v.type == "pvc" and v.source == obj.name for v in pod_template(state, p).volumes
            )
        ]
        bound = obj.status == "Bound"
        lines += [
            kv("StorageClass", obj.storage_class or "", 15),
            kv("Status", obj.status, 15),
            kv("Volume", obj.volume or "" if bound else "", 15),
            kv("Labels", "<none>", 15),
            kv("Annotations", "<none>", 15),
            kv("Finalizers", "[kubernetes.io/pvc-protection]", 15),
            kv("Capacity", obj.capacity if bound else "", 15),
            kv("Access Modes", ",".join(obj.access_modes) if bound else "", 15),
            kv("VolumeMode", "Filesystem", 15),
            kv("Used By", ("\n" + " " * 15).join(users) or "<none>", 15),
        ]
    elif isinstance(obj, Job):
        lines += [
            kv("Selector", "batch.kubernetes.io/job-name=" + obj.name, 24),
            kv("Parallelism", "1", 24),
            kv("Completions", str(obj.completions), 24),
            kv("Completion Mode", "NonIndexed", 24),
            kv("Start Time", rfc1123(at(now, obj.age)), 24),
            kv(
                "Pods Statuses",
                f"{obj.active} Active (0 Ready) / {obj.succeeded} Succeeded / {obj.failed} Failed",
                24,
            ),
        ]
        if obj.template is not None:
            lines.append("Pod Template:")
            lines.append("  Containers:")
            for c in obj.template.containers:
                lines.append(f"   {c.name}:")
                lines.append(kv("Image", c.image, 12, 4))
                lines += container_spec_lines(c, 4) + container_tail_lines(c, 4)
    elif isinstance(obj, ResourceQuota):
        rows = [[k, obj.used.get(k, "0"), v] for k, v in sorted(obj.hard.items())]
        lines += table(
            ["Resource", "Used", "Hard"], [["--------", "----", "----"], *rows], padding=2
        ).splitlines()
    elif isinstance(obj, Namespace):
        lines += [
            kv("Labels", f"kubernetes.io/metadata.name={obj.name}", 14),
            kv("Annotations", "<none>", 14),
            kv("Status", obj.status, 14),
            "",
            "No resource quota.",
            "",
            "No LimitRange resource.",
        ]
        return "\n".join(lines)
    elif isinstance(obj, ReplicaSetView):
        lines += [
            kv("Selector", labels_text(obj.selector), width),
            kv("Labels", multiline_labels(obj.selector, width), width),
            kv("Annotations", f"deployment.kubernetes.io/revision: {obj.revision}", width),
            kv("Controlled By", f"Deployment/{obj.workload.name}", width),
            kv("Replicas", f"{obj.current} current / {obj.desired} desired", width),
            kv(
                "Pods Status",
                f"{obj.ready} Running / {obj.current - obj.ready} Waiting / 0 Succeeded / 0 Failed",
                width,
            ),
            "Pod Template:",
            "  Containers:",
        ]
        for c in obj.template.containers:
            lines += [f"   {c.name}:", kv("Image", c.image, 12, 4)]
    lines.append(events_section(events_for(state, kind, obj.name, ns)))
    return "\n".join(lines)
