"""``kubectl describe deployment`` (and statefulset, daemonset), section for section."""

from __future__ import annotations

from datetime import datetime

from nightshift.scenarios.clock import at, rfc1123
from nightshift.scenarios.cluster import (
    replicasets,
    workload_pods,
    workload_status,
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
    Workload,
)
from nightshift.scenarios.model import WorldState
from nightshift.scenarios.tabular import labels_text, table


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
