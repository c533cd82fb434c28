"""``kubectl describe pod`` and ``kubectl describe deployment``, section for section."""

from __future__ import annotations

import hashlib
from datetime import datetime

from nightshift.k8s.kubectl_time import human_duration
from nightshift.scenarios.clock import at, rfc1123
from nightshift.scenarios.cluster import (
    container_ready,
    container_started,
    find_workload,
    image_of,
    pod_labels,
    pod_ready,
    pod_template,
    replicasets,
    statuses,
    workload_pods,
    workload_status,
)
from nightshift.scenarios.kube_model import (
    Container,
    ContainerStatus,
    Event,
    LastState,
    Pod,
    PodTemplate,
    Probe,
    Workload,
)
from nightshift.scenarios.model import WorldState
from nightshift.scenarios.tabular import labels_text, table


def kv(key: str, value: str, width: int, indent: int = 0) -> str:
    return (" " * indent + f"{key}:".ljust(width) + value).rstrip()


def multiline_labels(labels: dict[str, str], width: int, sep: str = "=") -> str:
    if not labels:
        return "<none>"
    items = [f"{k}{sep}{v}" for k, v in sorted(labels.items())]
    return ("\n" + " " * width).join(items)


def events_section(events: list[Event]) -> str:
    if not events:
        return "Events:  <none>"
    rows = []
    for e in sorted(events, key=lambda e: -(e.first_seen or e.last_seen)):
        age = human_duration(e.last_seen)
        if e.count > 1:
            first = e.first_seen if e.first_seen is not None else e.last_seen
            age = f"{age} (x{e.count} over {human_duration(first)})"
        rows.append([e.type, e.reason, age, e.source, e.message])
    body = table(
        ["Type", "Reason", "Age", "From", "Message"],
        [["----", "------", "----", "----", "-------"], *rows],
        padding=2,
    )
    return "Events:\n" + "\n".join("  " + line for line in body.splitlines())


def events_for(state: WorldState, kind: str, name: str, namespace: str | None) -> list[Event]:
    return [
        e
        for e in state.events
        if e.kind.lower() == kind.lower()
        and e.name == name
        and (namespace is None or e.namespace == namespace)
    ]


def probe_text(probe: Probe) -> str:
    timing = (
        f"delay={probe.initial_delay}s timeout={probe.timeout}s period={probe.period}s "
        f"#success={probe.success} #failure={probe.failure}"
    )
    if probe.type == "http-get":
        return f"http-get {probe.scheme}://:{probe.port}{probe.path} {timing}"
    if probe.type == "tcp-socket":
        return f"tcp-socket :{probe.port} {timing}"
    if probe.type == "grpc":
        return f"grpc <pod>:{probe.port} {timing}"
    return f"exec [{' '.join(probe.command)}] {timing}"


def _env_value(value: str) -> str:
    for prefix, what in (("secret:", "secret"), ("configmap:", "config map")):
        if value.startswith(prefix):
            ref, _, key = value[len(prefix) :].partition("/")
            verb = "in" if what == "secret" else "of"
            return f"<set to the key '{key}' {verb} {what} '{ref}'>  Optional: false"
    return value


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


def container_spec_lines(c: Container, indent: int, width: int = 15) -> list[str]:
    pad = " " * indent
    lines = []
    if c.ports:
        lines.append(
            kv("Port", ", ".join(f"{p.port}/{p.protocol}" for p in c.ports), width, indent)
        )
        lines.append(kv("Host Port", ", ".join(f"0/{p.protocol}" for p in c.ports), width, indent))
    else:
        lines += [kv("Port", "<none>", width, indent), kv("Host Port", "<none>", width, indent)]
    for label, values in (("Command", c.command), ("Args", c.args)):
        if values:
            lines.append(f"{pad}{label}:")
            lines += [f"{pad}  {v}" for v in values]
    return lines


def container_tail_lines(
    c: Container, indent: int, extra_mounts: tuple[str, ...] = ()
) -> list[str]:
    pad = " " * indent
    lines = []
    for label, res in (("Limits", c.resources.limits), ("Requests", c.resources.requests)):
        if res:
            lines.append(f"{pad}{label}:")
            width = max(len(k) for k in res) + 3
            lines += [kv(k, v, width, indent + 2) for k, v in sorted(res.items())]
    for label, probe in (
        ("Liveness", c.liveness),
        ("Readiness", c.readiness),
        ("Startup", c.startup),
    ):
        if probe is not None:
            lines.append(kv(label, probe_text(probe), 14, indent))
    if c.env_from:
        lines.append(f"{pad}Environment Variables from:")
        for ref in c.env_from:
            kind, _, name = ref.partition(":")
            label = "Secret" if kind == "secret" else "ConfigMap"
            lines.append(f"{pad}  {name}  {label}  Optional: false")
    if c.env:
        lines.append(f"{pad}Environment:")
        width = max(len(k) for k in c.env) + 3
        lines += [kv(k, _env_value(v), width, indent + 2) for k, v in c.env.items()]
    else:
        lines.append(kv("Environment", "<none>", 14, indent))
    mounts = [f"{m.path} from {m.volume} ({'ro' if m.read_only else 'rw'})" for m in c.mounts]
    mounts += extra_mounts
    if mounts:
        lines.append(f"{pad}Mounts:")
        lines += [f"{pad}  {m}" for m in mounts]
    else:
        lines.append(kv("Mounts", "<none>", 14, indent))
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


def _template_lines(w: Workload) -> list[str]:
    lines = ["Pod Template:", kv("Labels", multiline_labels(w.template.labels, 11), 9, 2)]
    if w.template.service_account != "default":
        lines.append(kv("Service Account", w.template.service_account, 18, 2))
    lines.append("  Containers:")
    for c in w.template.containers:
        lines += [f"   {c.name}:", kv("Image", c.image, 12, 4)]
        lines += container_spec_lines(c, 4, 12) + container_tail_lines(c, 4)
    return lines


def describe_set(state: WorldState, w: Workload, now: datetime) -> str:
    """StatefulSets and DaemonSets: kubectl's layout for those kinds."""
    st = workload_status(state, w)
    pods = workload_pods(state, w)
    running = sum(1 for p in pods if p.phase == "Running" and not p.terminating)
    status = f"{running} Running / {len(pods) - running} Waiting / 0 Succeeded / 0 Failed"
    width = 20 if w.kind == "StatefulSet" else 16
    lines = [kv("Name", w.name, width)]
    if w.kind == "StatefulSet":
        lines += [
            kv("Namespace", w.namespace, width),
            kv("CreationTimestamp", rfc1123(at(now, w.age)), width),
            kv("Selector", labels_text(w.selector or w.template.labels), width),
            kv("Labels", multiline_labels(w.labels, width), width),
            kv("Annotations", "<none>", width),
            kv("Replicas", f"{w.replicas} desired | {st.total} total", width),
            kv("Update Strategy", "RollingUpdate", width),
            kv("Partition", "0", width - 2, 2),
            kv("Pods Status", status, width),
        ]
    else:
        lines += [
            kv("Selector", labels_text(w.selector or w.template.labels), width),
            kv("Node-Selector", labels_text(w.template.node_selector), width),
            kv("Labels", multiline_labels(w.labels, width), width),
            kv("Annotations", "deprecated.daemonset.template.generation: 1", width),
            f"Desired Number of Nodes Scheduled: {st.desired}",
            f"Current Number of Nodes Scheduled: {st.total}",
            f"Number of Nodes Scheduled with Up-to-date Pods: {st.updated}",
            f"Number of Nodes Scheduled with Available Pods: {st.available}",
            "Number of Nodes Misscheduled: 0",
            kv("Pods Status", status, width),
        ]
    lines += _template_lines(w)
    lines.append(events_section(events_for(state, w.kind, w.name, w.namespace)))
    return "\n".join(lines)


def describe_workload(state: WorldState, w: Workload, now: datetime) -> str:
    if w.kind != "Deployment":
        return describe_set(state, w, now)
    st = workload_status(state, w)
    revision = w.revisions[-1].revision if w.revisions else 1
    annotations = {"deployment.kubernetes.io/revision": str(revision)}
    lines = [
        kv("Name", w.name, 24),
        kv("Namespace", w.namespace, 24),
        kv("CreationTimestamp", rfc1123(at(now, w.age)), 24),
        kv("Labels", multiline_labels(w.labels, 24), 24),
        kv("Annotations", multiline_labels(annotations, 24, ": "), 24),
        kv("Selector", labels_text(w.selector or w.template.labels), 24),
        kv(
            "Replicas",
            f"{w.replicas} desired | {st.updated} updated | {st.total} total | "
            f"{st.available} available | {max(st.total - st.available, 0)} unavailable",
            24,
        ),
        kv("StrategyType", "RollingUpdate", 24),
        kv("MinReadySeconds", "0", 24),
        kv("RollingUpdateStrategy", "25% max unavailable, 25% max surge", 24),
        "Pod Template:",
        kv("Labels", multiline_labels(w.template.labels, 11), 9, 2),
    ]
    if w.template.service_account != "default":
        lines.append(kv("Service Account", w.template.service_account, 18, 2))
    lines.append("  Containers:")
    for c in w.template.containers:
        lines.append(f"   {c.name}:")
        lines.append(kv("Image", c.image, 12, 4))
        lines += container_spec_lines(c, 4, 12)
        lines += container_tail_lines(c, 4)
    lines.append(
        kv(
            "Volumes",
            "<none>"
            if not w.template.volumes
            else ", ".join(
                f"{v.name} ({v.type} {v.source or ''})".replace(" )", ")")
                for v in w.template.volumes
            ),
            17,
            2,
        )
    )
    lines.append(kv("Node-Selectors", labels_text(w.template.node_selector), 17, 2))
    lines.append(
        kv("Tolerations", ", ".join(t.key for t in w.template.tolerations) or "<none>", 17, 2)
    )
    available = st.available >= w.replicas
    progressing = (
        ("False", "ProgressDeadlineExceeded")
        if w.progress_deadline_exceeded
        else (
            ("True", "NewReplicaSetAvailable")
            if st.updated >= w.replicas and available
            else ("True", "ReplicaSetUpdated")
        )
    )
    conds = [
        ["Progressing", *progressing],
        [
            "Available",
            "True" if available else "False",
            "MinimumReplicasAvailable" if available else "MinimumReplicasUnavailable",
        ],
    ]
    lines.append("Conditions:")
    lines += [
        "  " + x
        for x in table(
            ["Type", "Status", "Reason"], [["----", "------", "------"], *conds]
        ).splitlines()
    ]
    sets = replicasets(state, w)
    old = [
        f"{r.name} ({r.current}/{r.desired} replicas created)" for r in sets[:-1] if r.current > 0
    ]
    lines.append(kv("OldReplicaSets", ", ".join(old) or "<none>", 17))
    if sets:
        new = sets[-1]
        lines.append(
            kv("NewReplicaSet", f"{new.name} ({new.current}/{new.desired} replicas created)", 17)
        )
    lines.append(events_section(events_for(state, w.kind, w.name, w.namespace)))
    return "\n".join(lines)
