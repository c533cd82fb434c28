"""``kubectl get``: one row printer per kind, with kubectl's columns.

Columns follow kubectl v1.30 (``-o wide`` extras, ``--show-labels`` as the
``labels`` output, NAMESPACE first when listing all namespaces).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nightshift.k8s.kubectl_time import human_duration
from nightshift.scenarios.cluster import (
    ReplicaSetView,
    container_ready,
    endpoints,
    node_lost_for,
    pod_labels,
    pod_status_column,
    restarts_of,
    statuses,
    workload_status,
)
from nightshift.scenarios.kinds import Kind
from nightshift.scenarios.kube_model import (
    ConfigMap,
    Event,
    Job,
    Namespace,
    NetworkPolicy,
    Node,
    PersistentVolumeClaim,
    Pod,
    ResourceQuota,
    Secret,
    Service,
    Workload,
)
from nightshift.scenarios.model import WorldState
from nightshift.scenarios.tabular import labels_text, table

Row = tuple[list[str], list[str]]  # (normal columns, wide extras)


def node_labels(node: Node) -> dict[str, str]:
    labels = {
        "kubernetes.io/arch": "amd64",
        "kubernetes.io/hostname": node.name,
        "kubernetes.io/os": "linux",
    }
    for role in node.roles:
        labels[f"node-role.kubernetes.io/{role}"] = ""
    labels.update(node.labels)
    return labels


def object_labels(state: WorldState, obj: Any) -> dict[str, str]:
    if isinstance(obj, Pod):
        return pod_labels(state, obj)
    if isinstance(obj, Node):
        return node_labels(obj)
    if isinstance(obj, ReplicaSetView):
        return obj.selector
    if isinstance(obj, Workload):
        return obj.labels or obj.template.labels
    return dict(getattr(obj, "labels", {}) or {})


def node_status(node: Node) -> str:
    status = "Ready" if node.ready == "True" else "NotReady"
    return status + (",SchedulingDisabled" if node.unschedulable else "")


def restarts_text(state: WorldState, pod: Pod) -> str:
    total, last = restarts_of(state, pod)
    if total and last is not None:
        return f"{total} ({human_duration(last)} ago)"
    return str(total)


def _pod(state: WorldState, pod: Pod) -> Row:
    sts = statuses(state, pod)
    ready = (
        0 if node_lost_for(state, pod) is not None else sum(1 for s in sts if container_ready(s))
    )
    return (
        [
            pod.name,
            f"{ready}/{len(sts)}",
            pod_status_column(state, pod),
            restarts_text(state, pod),
            human_duration(pod.age),
        ],
        [pod.ip or "<none>", pod.node or "<none>", "<none>", "<none>"],
    )


def _images(obj: Workload | ReplicaSetView) -> tuple[str, str]:
    template = obj.template
    return (
        ",".join(c.name for c in template.containers),
        ",".join(c.image for c in template.containers),
    )


def _workload(state: WorldState, w: Workload) -> Row:
    st = workload_status(state, w)
    names, images = _images(w)
    selector = labels_text(w.selector or w.template.labels)
    if w.kind == "StatefulSet":
        return [w.name, f"{st.ready}/{w.replicas}", human_duration(w.age)], [names, images]
    if w.kind == "DaemonSet":
        node_sel = labels_text(w.template.node_selector)
        return (
            [
                w.name,
                str(st.desired),
                str(st.total),
                str(st.ready),
                str(st.updated),
                str(st.available),
                node_sel,
                human_duration(w.age),
            ],
            [names, images, selector],
        )
    return (
        [
            w.name,
            f"{st.ready}/{w.replicas}",
            str(st.updated),
            str(st.available),
            human_duration(w.age),
        ],
        [names, images, selector],
    )


def _replicaset(state: WorldState, rs: ReplicaSetView) -> Row:
    names, images = _images(rs)
    return (
        [rs.name, str(rs.desired), str(rs.current), str(rs.ready), human_duration(rs.age)],
        [names, images, labels_text(rs.selector)],
    )


def service_ports(svc: Service) -> str:
    parts = []
    for p in svc.ports:
        node = f":{p.node_port}" if p.node_port else ""
        parts.append(f"{p.port}{node}/{p.protocol}")
    return ",".join(parts) or "<none>"


def _service(state: WorldState, svc: Service) -> Row:
    external = svc.external_ip or ("<pending>" if svc.type == "LoadBalancer" else "<none>")
    if svc.type == "ExternalName":
        external = svc.external_name or "<none>"
    return (
        [
            svc.name,
            svc.type,
            svc.cluster_ip or "None",
            external,
            service_ports(svc),
            human_duration(svc.age),
        ],
        [labels_text(svc.selector)],
    )


def endpoints_text(state: WorldState, svc: Service, port_name: str | None = None) -> str:
    ready = [
        f"{a.ip}:{a.port}"
        for a in endpoints(state, svc)
        if a.ready and (port_name is None or a.port_name == port_name)
    ]
    if not ready:
        return "<none>"
    if len(ready) > 3:
        return ",".join(ready[:3]) + f" + {len(ready) - 3} more..."
    return ",".join(ready)


def _endpoints(state: WorldState, svc: Service) -> Row:
    return [svc.name, endpoints_text(state, svc), human_duration(svc.age)], []


def _node(state: WorldState, node: Node) -> Row:
    return (
        [
            node.name,
            node_status(node),
            ",".join(node.roles) or "<none>",
            human_duration(node.age),
            node.version,
        ],
        [node.internal_ip or "<none>", "<none>", node.os_image, node.kernel, node.runtime],
    )


def _namespace(state: WorldState, ns: Namespace) -> Row:
    return [ns.name, ns.status, human_duration(ns.age)], []


def _configmap(state: WorldState, cm: ConfigMap) -> Row:
    return [cm.name, str(len(cm.data)), human_duration(cm.age)], []


def _secret(state: WorldState, s: Secret) -> Row:
    return [s.name, s.type, str(len(s.keys)), human_duration(s.age)], []


def _pvc(state: WorldState, pvc: PersistentVolumeClaim) -> Row:
    bound = pvc.status == "Bound"
    modes = ",".join(
        {
            "ReadWriteOnce": "RWO",
            "ReadWriteMany": "RWX",
            "ReadOnlyMany": "ROX",
            "ReadWriteOncePod": "RWOP",
        }.get(m, m)
        for m in pvc.access_modes
    )
    return (
        [
            pvc.name,
            pvc.status,
            pvc.volume or "" if bound else "",
            pvc.capacity if bound else "",
            modes if bound else "",
            pvc.storage_class or "",
            "<unset>",
            human_duration(pvc.age),
        ],
        ["Filesystem"],
    )


def _job(state: WorldState, job: Job) -> Row:
    duration = human_duration(job.duration) if job.duration is not None else ""
    return (
        [
            job.name,
            job.condition,
            f"{job.succeeded}/{job.completions}",
            duration,
            human_duration(job.age),
        ],
        [],
    )


def _netpol(state: WorldState, np: NetworkPolicy) -> Row:
    return [np.name, labels_text(np.pod_selector), human_duration(np.age)], []


def _quota(state: WorldState, q: ResourceQuota) -> Row:
    def part(limits: bool) -> str:
        keys = sorted(k for k in q.hard if k.startswith("limits.") == limits)
        return ", ".join(f"{k}: {q.used.get(k, '0')}/{q.hard[k]}" for k in keys)

    requests, limits = part(False), part(True)
    return [q.name, human_duration(q.age), requests, limits], []


def event_last_seen(event: Event) -> str:
    last = human_duration(event.last_seen)
    if event.count > 1:
        first = event.first_seen if event.first_seen is not None else event.last_seen
        return f"{last} (x{event.count} over {human_duration(first)})"
    return last


def _event(state: WorldState, e: Event) -> Row:
    return [event_last_seen(e), e.type, e.reason, f"{e.kind.lower()}/{e.name}", e.message], []


_PRINTERS: dict[str, tuple[list[str], list[str], Callable[[WorldState, Any], Row]]] = {
    "Pod": (
        ["NAME", "READY", "STATUS", "RESTARTS", "AGE"],
        ["IP", "NODE", "NOMINATED NODE", "READINESS GATES"],
        _pod,
    ),
    "Deployment": (
        ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"],
        ["CONTAINERS", "IMAGES", "SELECTOR"],
        _workload,
    ),
    "StatefulSet": (["NAME", "READY", "AGE"], ["CONTAINERS", "IMAGES"], _workload),
    "DaemonSet": (
        ["NAME", "DESIRED", "CURRENT", "READY", "UP-TO-DATE", "AVAILABLE", "NODE SELECTOR", "AGE"],
        ["CONTAINERS", "IMAGES", "SELECTOR"],
        _workload,
    ),
    "ReplicaSet": (
        ["NAME", "DESIRED", "CURRENT", "READY", "AGE"],
        ["CONTAINERS", "IMAGES", "SELECTOR"],
        _replicaset,
    ),
    "Service": (
        ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"],
        ["SELECTOR"],
        _service,
    ),
    "Endpoints": (["NAME", "ENDPOINTS", "AGE"], [], _endpoints),
    "Node": (
        ["NAME", "STATUS", "ROLES", "AGE", "VERSION"],
        ["INTERNAL-IP", "EXTERNAL-IP", "OS-IMAGE", "KERNEL-VERSION", "CONTAINER-RUNTIME"],
        _node,
    ),
    "Namespace": (["NAME", "STATUS", "AGE"], [], _namespace),
    "ConfigMap": (["NAME", "DATA", "AGE"], [], _configmap),
    "Secret": (["NAME", "TYPE", "DATA", "AGE"], [], _secret),
    "PersistentVolumeClaim": (
        [
            "NAME",
            "STATUS",
            "VOLUME",
            "CAPACITY",
            "ACCESS MODES",
            "STORAGECLASS",
            "VOLUMEATTRIBUTESCLASS",
            "AGE",
        ],
        ["VOLUMEMODE"],
        _pvc,
    ),
    "Job": (["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"], [], _job),
    "NetworkPolicy": (["NAME", "POD-SELECTOR", "AGE"], [], _netpol),
    "ResourceQuota": (["NAME", "AGE", "REQUEST", "LIMIT"], [], _quota),
    "Event": (["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"], [], _event),
}


def render_get(
    state: WorldState,
    kind: Kind,
    items: list[Any],
    *,
    all_namespaces: bool,
    output: str | None,
    prefix: str = "",
) -> str:
    """One kind's table; ``prefix`` (``pod/``) is what ``kubectl get all`` puts on names."""
    headers, wide_headers, printer = _PRINTERS[kind.name]
    head = list(headers)
    if output == "wide":
        head += wide_headers
    if output == "labels":
        head.append("LABELS")
    show_ns = all_namespaces and kind.namespaced
    if show_ns:
        head.insert(0, "NAMESPACE")
    rows: list[list[str]] = []
    for obj in items:
        cells, wide = printer(state, obj)
        row = list(cells)
        row[0] = prefix + row[0]
        if output == "wide":
            row += wide
        if output == "labels":
            row.append(labels_text(object_labels(state, obj)))
        if show_ns:
            row.insert(0, obj.namespace)
        rows.append(row)
    return table(head, rows)
