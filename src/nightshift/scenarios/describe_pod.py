"""``kubectl describe pod``, section for section (workloads: describe_workload.py)."""

from __future__ import annotations

import hashlib
from datetime import datetime

from nightshift.scenarios.clock import at, rfc1123
from nightshift.scenarios.cluster import (
    container_ready,
    container_started,
    find_workload,
    image_of,
    pod_labels,
    pod_ready,
    pod_template,
    statuses,
)
from nightshift.scenarios.describe_sections import (
    container_spec_lines,
    container_tail_lines,
    events_for,
    events_section,
    kv,
    multiline_labels,
)
from nightshift.scenarios.kube_model import (
    Container,
    ContainerStatus,
    LastState,
    Pod,
    PodTemplate,
)
from nightshift.scenarios.model import WorldState
from nightshift.scenarios.tabular import labels_text, table


def _hex(seed: str) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()


def _state_lines(
    label: str, st: ContainerStatus | LastState, now: datetime, pod_age: int
) -> list[str]:
    if isinstance(st, LastState):
        lines = [kv(label, "Terminated", 16, 4), kv("Reason", st.reason, 14, 6)]
        if st.message:
            lines.append(kv("Message", st.message, 14, 6))
        lines += [
            kv("Exit Code", str(st.exit_code), 14, 6),
            kv("Started", rfc1123(at(now, st.started)), 14, 6),
            kv("Finished", rfc1123(at(now, st.finished)), 14, 6),
        ]
        return lines
    if st.state == "running":
        started = container_started(st, pod_age)
        return [kv(label, "Running", 16, 4), kv("Started", rfc1123(at(now, started)), 14, 6)]
    if st.state == "waiting":
        lines = [kv(label, "Waiting", 16, 4)]
        if st.reason:
            lines.append(kv("Reason", st.reason, 14, 6))
        return lines
    lines = [kv(label, "Terminated", 16, 4), kv("Reason", st.reason or "Error", 14, 6)]
    if st.message:
        lines.append(kv("Message", st.message, 14, 6))
    lines.append(kv("Exit Code", str(st.exit_code if st.exit_code is not None else 1), 14, 6))
    if st.started is not None:
        lines.append(kv("Started", rfc1123(at(now, st.started)), 14, 6))
    if st.finished is not None:
        lines.append(kv("Finished", rfc1123(at(now, st.finished)), 14, 6))
    return lines


def qos_class(template: PodTemplate) -> str:
    res = [c.resources for c in template.containers]
    if all(not r.requests and not r.limits for r in res):
        return "BestEffort"
    if all(
        r.limits
        and all(r.limits.get(k) == r.requests.get(k, r.limits.get(k)) for k in ("cpu", "memory"))
        and {"cpu", "memory"} <= set(r.limits)
        for r in res
    ):
        return "Guaranteed"
    return "Burstable"


def _controlled_by(state: WorldState, pod: Pod) -> str | None:
    workload = find_workload(state, pod.namespace, pod.owner)
    if workload is not None and workload.kind == "Deployment":
        rs = pod_labels(state, pod).get("pod-template-hash", "")
        return f"ReplicaSet/{workload.name}-{rs}"
    if pod.owner:
        kind, _, name = pod.owner.partition("/")
        pretty = {"statefulset": "StatefulSet", "daemonset": "DaemonSet"}.get(kind, kind.title())
        return f"{pretty}/{name}"
    return None


def _header_lines(state: WorldState, pod: Pod, template: PodTemplate, now: datetime) -> list[str]:
    node_ip = next((n.internal_ip for n in state.nodes if n.name == pod.node), None)
    lines = [
        kv("Name", pod.name, 18),
        kv("Namespace", pod.namespace, 18),
        kv("Priority", "0", 18),
        kv("Service Account", template.service_account, 18),
        kv("Node", f"{pod.node}/{node_ip}" if pod.node else "<none>", 18),
    ]
    if pod.node:
        lines.append(kv("Start Time", rfc1123(at(now, pod.age)), 18))
    lines.append(kv("Labels", multiline_labels(pod_labels(state, pod), 18), 18))
    lines.append(kv("Annotations", "<none>", 18))
    lines.append(kv("Status", "Terminating" if pod.terminating else pod.phase, 18))
    if pod.reason:
        lines.append(kv("Reason", pod.reason, 18))
    if pod.message:
        lines.append(kv("Message", pod.message, 18))
    lines.append(kv("IP", pod.ip or "", 18))
    lines += ["IPs:", f"  IP:  {pod.ip}"] if pod.ip else [kv("IPs", "<none>", 18)]
    controlled = _controlled_by(state, pod)
    if controlled:
        lines.append(kv("Controlled By", controlled, 18))
    return lines


def _container_lines(
    state: WorldState, pod: Pod, c: Container, st: ContainerStatus, now: datetime
) -> list[str]:
    image = image_of(state, pod, c)
    lines = [f"  {c.name}:"]
    if pod.node is None:  # never scheduled: the API has no container status
        lines.append(kv("Image", image, 15, 4))
        lines += container_spec_lines(c, 4)
    else:
        started = st.state != "waiting" or st.restarts > 0
        container_id = f"containerd://{_hex(pod.name + c.name)}" if started else ""
        image_id = f"{image.split(':')[0]}@sha256:{_hex(image)}" if started else ""
        lines.append(kv("Container ID", container_id, 15, 4))
        lines.append(kv("Image", image, 15, 4))
        lines.append(kv("Image ID", image_id, 15, 4))
        lines += container_spec_lines(c, 4)
        lines += _state_lines("State", st, now, pod.age)
        if st.last_state is not None:
            lines += _state_lines("Last State", st.last_state, now, pod.age)
        lines.append(kv("Ready", str(container_ready(st)), 16, 4))
        lines.append(kv("Restart Count", str(st.restarts), 16, 4))
    token = _hex(pod.name)[:5]
    sa_mount = f"/var/run/secrets/kubernetes.io/serviceaccount from kube-api-access-{token} (ro)"
    return lines + container_tail_lines(c, 4, (sa_mount,))


def _containers_lines(
    state: WorldState, pod: Pod, template: PodTemplate, now: datetime
) -> list[str]:
    lines: list[str] = []
    app_states = {s.name: s for s in statuses(state, pod)}
    init_states = {s.name: s for s in pod.init_containers}
    for section, containers, known in (
        ("Init Containers", template.init_containers, init_states),
        ("Containers", template.containers, app_states),
    ):
        if not containers:
            continue
        lines.append(f"{section}:")
        for c in containers:
            st = known.get(c.name) or ContainerStatus(
                name=c.name, state="waiting", reason="PodInitializing"
            )
            lines += _container_lines(state, pod, c, st, now)
    return lines


def _conditions_lines(state: WorldState, pod: Pod) -> list[str]:
    if pod.node is None:
        conds = [("PodScheduled", "False")]
    else:
        ready = str(pod_ready(state, pod))
        init_ok = str(
            all(s.state == "terminated" and s.exit_code == 0 for s in pod.init_containers)
        )
        conds = [
            ("PodReadyToStartContainers", str(pod.phase == "Running")),
            ("Initialized", init_ok),
            ("Ready", ready),
            ("ContainersReady", ready),
            ("PodScheduled", "True"),
        ]
    return ["Conditions:"] + ["  " + line for line in table(["Type", "Status"], conds).splitlines()]


_VOLUME_KINDS = {
    "configmap": ("ConfigMap (a volume populated by a ConfigMap)", "Name"),
    "secret": ("Secret (a volume populated by a Secret)", "SecretName"),
    "pvc": (
        "PersistentVolumeClaim (a reference to a PersistentVolumeClaim in the same namespace)",
        "ClaimName",
    ),
    "emptydir": ("EmptyDir (a temporary directory that shares a pod's lifetime)", "Medium"),
    "hostpath": ("HostPath (bare host directory volume)", "Path"),
}


def _volumes_lines(pod: Pod, template: PodTemplate) -> list[str]:
    lines = ["Volumes:"]
    for v in template.volumes:
        description, field = _VOLUME_KINDS[v.type]
        lines += [f"  {v.name}:", kv("Type", description, 11, 4), kv(field, v.source or "", 11, 4)]
    token = _hex(pod.name)[:5]
    return [
        *lines,
        f"  kube-api-access-{token}:",
        "    Type:                    Projected (a volume that contains injected data "
        "from multiple sources)",
        "    TokenExpirationSeconds:  3607",
        "    ConfigMapName:           kube-root-ca.crt",
        "    ConfigMapOptional:       <nil>",
        "    DownwardAPI:             true",
    ]


def _scheduling_lines(template: PodTemplate) -> list[str]:
    tolerations = [
        f"{t.key}{'=' + t.value if t.value else ''}:{t.effect or ''} op={t.operator}"
        + (f" for {t.seconds}s" if t.seconds else "")
        for t in template.tolerations
    ] + [
        "node.kubernetes.io/not-ready:NoExecute op=Exists for 300s",
        "node.kubernetes.io/unreachable:NoExecute op=Exists for 300s",
    ]
    return [
        kv("QoS Class", qos_class(template), 29),
        kv("Node-Selectors", labels_text(template.node_selector), 29),
        kv("Tolerations", ("\n" + " " * 29).join(tolerations), 29),
    ]


def describe_pod(state: WorldState, pod: Pod, now: datetime) -> str:
    template = pod_template(state, pod)
    lines = _header_lines(state, pod, template, now)
    lines += _containers_lines(state, pod, template, now)
    lines += _conditions_lines(state, pod)
    lines += _volumes_lines(pod, template)
    lines += _scheduling_lines(template)
    lines.append(events_section(events_for(state, "Pod", pod.name, pod.namespace)))
    return "\n".join(lines)
