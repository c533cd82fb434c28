"""``kubectl describe`` for workloads: deployment, replica set, stateful set, daemon set, job."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from nightshift.k8s.describe_pod import pod_template
from nightshift.k8s.describe_writer import Writer, controller_of, events, multiline
from nightshift.k8s.kubectl_columns import selector_text
from nightshift.k8s.kubectl_time import human_duration, parse_time, rfc1123z

Obj = dict[str, Any]


def _head(w: Writer, o: Obj, created: bool = False) -> None:
    m = o.get("metadata") or {}
    w.w(0, f"Name:\t{m.get('name')}\n")
    w.w(0, f"Namespace:\t{m.get('namespace', '')}\n")
    if created:
        w.w(0, f"CreationTimestamp:\t{rfc1123z(m.get('creationTimestamp'))}\n")


def pods_status(pods: Sequence[Obj]) -> str:
    phases = [str((p.get("status") or {}).get("phase", "")) for p in pods]
    return (
        f"{phases.count('Running')} Running / {phases.count('Pending')} Waiting / "
        f"{phases.count('Succeeded')} Succeeded / {phases.count('Failed')} Failed"
    )


def _owned(o: Obj, pods: Sequence[Obj]) -> list[Obj]:
    uid = (o.get("metadata") or {}).get("uid")
    return [
        p
        for p in pods
        if any(r.get("uid") == uid for r in (p.get("metadata") or {}).get("ownerReferences") or [])
    ]


def _rs_summary(rs: Obj) -> str:
    st, spec = rs.get("status") or {}, rs.get("spec") or {}
    return (
        f"{rs['metadata']['name']} ({st.get('replicas', 0)}/{spec.get('replicas', 0)} "
        "replicas created)"
    )


def describe_deployment(
    d: Obj, replicasets: Sequence[Obj], evs: Sequence[Obj] | None, now: datetime | None = None
) -> str:
    m, spec, st = d.get("metadata") or {}, d.get("spec") or {}, d.get("status") or {}
    w = Writer()
    _head(w, d, created=True)
    multiline(w, "Labels", m.get("labels"))
    multiline(w, "Annotations", m.get("annotations"), sep=": ")
    w.w(0, f"Selector:\t{selector_text(spec.get('selector'))}\n")
    w.w(
        0,
        f"Replicas:\t{spec.get('replicas', 1)} desired | {st.get('updatedReplicas', 0)} updated | "
        f"{st.get('replicas', 0)} total | {st.get('availableReplicas', 0)} available | "
        f"{st.get('unavailableReplicas', 0)} unavailable\n",
    )
    strategy = spec.get("strategy") or {}
    w.w(0, f"StrategyType:\t{strategy.get('type', 'RollingUpdate')}\n")
    w.w(0, f"MinReadySeconds:\t{spec.get('minReadySeconds', 0)}\n")
    rolling = strategy.get("rollingUpdate")
    if rolling:
        w.w(
            0,
            f"RollingUpdateStrategy:\t{rolling.get('maxUnavailable')} max unavailable, "
            f"{rolling.get('maxSurge')} max surge\n",
        )
    pod_template(w, spec.get("template") or {})
    if st.get("conditions"):
        w.w(0, "Conditions:\n  Type\tStatus\tReason\n")
        w.w(1, "----\t------\t------\n")
        for c in st["conditions"]:
            w.w(1, f"{c.get('type')} \t{c.get('status')}\t{c.get('reason', '')}\n")
    owned = _owned(d, replicasets)
    template_hash = None
    revision = (m.get("annotations") or {}).get("deployment.kubernetes.io/revision")
    new = [
        rs
        for rs in owned
        if (rs["metadata"].get("annotations") or {}).get("deployment.kubernetes.io/revision")
        == revision
    ]
    template_hash = new[0]["metadata"]["name"] if new else None
    old = [
        rs
        for rs in owned
        if rs["metadata"]["name"] != template_hash and (rs.get("spec") or {}).get("replicas", 0)
    ]
    w.w(0, f"OldReplicaSets:\t{', '.join(_rs_summary(r) for r in old) or '<none>'}\n")
    w.w(0, f"NewReplicaSet:\t{_rs_summary(new[0]) if new else '<none>'}\n")
    events(w, evs, now)
    return w.text()


def describe_replicaset(
    rs: Obj, pods: Sequence[Obj], evs: Sequence[Obj] | None, now: datetime | None = None
) -> str:
    m, spec, st = rs.get("metadata") or {}, rs.get("spec") or {}, rs.get("status") or {}
    w = Writer()
    _head(w, rs)
    w.w(0, f"Selector:\t{selector_text(spec.get('selector'))}\n")
    multiline(w, "Labels", m.get("labels"))
    multiline(w, "Annotations", m.get("annotations"), sep=": ")
    if controller_of(rs):
        w.w(0, f"Controlled By:\t{controller_of(rs)}\n")
    w.w(0, f"Replicas:\t{st.get('replicas', 0)} current / {spec.get('replicas', 0)} desired\n")
    w.w(0, f"Pods Status:\t{pods_status(_owned(rs, pods))}\n")
    pod_template(w, spec.get("template") or {})
    _conditions(w, st.get("conditions"))
    events(w, evs, now)
    return w.text()


def _conditions(w: Writer, conds: Sequence[Obj] | None) -> None:
    if not conds:
        return
    w.w(0, "Conditions:\n  Type\tStatus\tReason\n")
    w.w(1, "----\t------\t------\n")
    for c in conds:
        w.w(1, f"{c.get('type')} \t{c.get('status')}\t{c.get('reason', '')}\n")


def describe_statefulset(
    s: Obj, pods: Sequence[Obj], evs: Sequence[Obj] | None, now: datetime | None = None
) -> str:
    m, spec, st = s.get("metadata") or {}, s.get("spec") or {}, s.get("status") or {}
    w = Writer()
    _head(w, s, created=True)
    w.w(0, f"Selector:\t{selector_text(spec.get('selector'))}\n")
    multiline(w, "Labels", m.get("labels"))
    multiline(w, "Annotations", m.get("annotations"), sep=": ")
    w.w(0, f"Service Name:\t{spec.get('serviceName', '')}\n")
    w.w(0, f"Pod Management Policy:\t{spec.get('podManagementPolicy', 'OrderedReady')}\n")
    w.w(0, f"Replicas:\t{spec.get('replicas', 1)} desired | {st.get('replicas', 0)} total\n")
    strategy = spec.get("updateStrategy") or {}
    w.w(0, f"Update Strategy:\t{strategy.get('type', 'RollingUpdate')}\n")
    rolling = strategy.get("rollingUpdate")
    if rolling is not None:
        w.w(1, f"Partition:\t{rolling.get('partition', 0)}\n")
    retention = spec.get("persistentVolumeClaimRetentionPolicy") or {}
    w.w(0, "Persistent Volume Claim Retention Policy:\n")
    w.w(1, f"WhenDeleted:\t{retention.get('whenDeleted', 'Retain')}\n")
    w.w(1, f"WhenScaled:\t{retention.get('whenScaled', 'Retain')}\n")
    w.w(0, f"Pods Status:\t{pods_status(_owned(s, pods))}\n")
    pod_template(w, spec.get("template") or {})
    claims = spec.get("volumeClaimTemplates") or []
    if not claims:
        w.w(0, "Volume Claims:\t<none>\n")
    else:
        w.w(0, "Volume Claims:\n")
        for c in claims:
            cm, cs = c.get("metadata") or {}, c.get("spec") or {}
            w.w(1, f"Name:\t{cm.get('name')}\n")
            w.w(1, f"StorageClass:\t{cs.get('storageClassName', '')}\n")
            multiline(w, "Labels", cm.get("labels"), indent="  ")
            multiline(w, "Annotations", cm.get("annotations"), sep=": ", indent="  ")
            storage = ((cs.get("resources") or {}).get("requests") or {}).get("storage", "")
            w.w(1, f"Capacity:\t{storage}\n")
            w.w(1, f"Access Modes:\t{cs.get('accessModes', [])}\n")
    events(w, evs, now)
    return w.text()


def describe_daemonset(
    d: Obj, pods: Sequence[Obj], evs: Sequence[Obj] | None, now: datetime | None = None
) -> str:
    m, spec, st = d.get("metadata") or {}, d.get("spec") or {}, d.get("status") or {}
    w = Writer()
    _head(w, d)
    w.w(0, f"Selector:\t{selector_text(spec.get('selector'))}\n")
    node_sel = ((spec.get("template") or {}).get("spec") or {}).get("nodeSelector") or {}
    sel_text = ",".join(f"{k}={v}" for k, v in sorted(node_sel.items())) or "<none>"
    w.w(0, f"Node-Selector:\t{sel_text}\n")
    multiline(w, "Labels", m.get("labels"))
    multiline(w, "Annotations", m.get("annotations"), sep=": ")
    w.w(0, f"Desired Number of Nodes Scheduled: {st.get('desiredNumberScheduled', 0)}\n")
    w.w(0, f"Current Number of Nodes Scheduled: {st.get('currentNumberScheduled', 0)}\n")
    w.w(
        0,
        f"Number of Nodes Scheduled with Up-to-date Pods: {st.get('updatedNumberScheduled', 0)}\n",
    )
    w.w(0, f"Number of Nodes Scheduled with Available Pods: {st.get('numberAvailable', 0)}\n")
    w.w(0, f"Number of Nodes Misscheduled: {st.get('numberMisscheduled', 0)}\n")
    w.w(0, f"Pods Status:\t{pods_status(_owned(d, pods))}\n")
    pod_template(w, spec.get("template") or {})
    events(w, evs, now)
    return w.text()


def describe_job(
    j: Obj, pods: Sequence[Obj], evs: Sequence[Obj] | None, now: datetime | None = None
) -> str:
    m, spec, st = j.get("metadata") or {}, j.get("spec") or {}, j.get("status") or {}
    w = Writer()
    _head(w, j)
    w.w(0, f"Selector:\t{selector_text(spec.get('selector'))}\n")
    multiline(w, "Labels", m.get("labels"))
    multiline(w, "Annotations", m.get("annotations"), sep=": ")
    if controller_of(j):
        w.w(0, f"Controlled By:\t{controller_of(j)}\n")
    w.w(0, f"Parallelism:\t{spec.get('parallelism', 1)}\n")
    completions = spec.get("completions")
    w.w(0, f"Completions:\t{completions if completions is not None else '<unset>'}\n")
    w.w(0, f"Completion Mode:\t{spec.get('completionMode', 'NonIndexed')}\n")
    w.w(0, f"Suspend:\t{str(bool(spec.get('suspend'))).lower()}\n")
    w.w(0, f"Backoff Limit:\t{spec.get('backoffLimit', 6)}\n")
    if st.get("startTime"):
        w.w(0, f"Start Time:\t{rfc1123z(st['startTime'])}\n")
    start, end = parse_time(st.get("startTime")), parse_time(st.get("completionTime"))
    if end is not None:
        w.w(0, f"Completed At:\t{rfc1123z(st['completionTime'])}\n")
    if start is not None and end is not None:
        w.w(0, f"Duration:\t{human_duration(int((end - start).total_seconds()))}\n")
    if spec.get("activeDeadlineSeconds"):
        w.w(0, f"Active Deadline Seconds:\t{spec['activeDeadlineSeconds']}s\n")
    w.w(
        0,
        f"Pods Statuses:\t{st.get('active', 0)} Active ({st.get('ready', 0)} Ready) / "
        f"{st.get('succeeded', 0)} Succeeded / {st.get('failed', 0)} Failed\n",
    )
    pod_template(w, spec.get("template") or {})
    events(w, evs, now)
    return w.text()
