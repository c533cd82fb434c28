"""What Kueue says about an investigation's Job: admitted, waiting (and where), or evicted.

A Job created suspended with a queue label belongs to the cluster from then on: the
investigation is *admitted to the cluster* but may wait for quota. Kueue keeps that state
in the Job's Workload (``kueue.x-k8s.io/v1beta2``, found by the ``kueue.x-k8s.io/job-uid``
label), and the queue position only in its visibility API (``visibility.kueue.x-k8s.io``,
an aggregated API: ``pendingworkloads`` of the LocalQueue). Both are read, never written.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from nightshift.k8s.client import JSON, KubeApi, KubeError

KUEUE_API = "/apis/kueue.x-k8s.io/v1beta2"
VISIBILITY_API = "/apis/visibility.kueue.x-k8s.io/v1beta2"
JOB_UID_LABEL = "kueue.x-k8s.io/job-uid"


class QueueState(StrEnum):
    NOT_QUEUED = "not-queued"  # no Workload (yet): Kueue has not seen the Job, or is down
    WAITING = "waiting"  # suspended, no quota reserved
    ADMITTED = "admitted"  # quota reserved and admitted: the Job is unsuspended
    EVICTED = "evicted"  # was admitted, then preempted or evicted: back in the queue
    FINISHED = "finished"


@dataclass(frozen=True, slots=True)
class Admission:
    state: QueueState
    reason: str
    local_queue: str = ""
    cluster_queue: str = ""
    priority: int | None = None
    position_in_local_queue: int | None = None
    position_in_cluster_queue: int | None = None
    workload: str = ""


def workload_for_job(api: KubeApi, namespace: str, job_uid: str) -> JSON | None:
    listing = api.get(
        f"{KUEUE_API}/namespaces/{namespace}/workloads",
        {"labelSelector": f"{JOB_UID_LABEL}={job_uid}"},
    )
    items = listing.get("items") or []
    return dict(items[0]) if items else None


def admission_of(
    api: KubeApi,
    namespace: str,
    job_uid: str,
    *,
    visibility: KubeApi | None = None,
) -> Admission:
    """The Job's place in Kueue. ``visibility`` is the client for Kueue's visibility API
    (the API server itself in a cluster, which aggregates it); None skips the position."""
    workload = workload_for_job(api, namespace, job_uid)
    if workload is None:
        return Admission(
            QueueState.NOT_QUEUED,
            "no Kueue Workload for the Job yet: waiting for Kueue to pick it up",
        )
    spec, status = workload.get("spec") or {}, workload.get("status") or {}
    conds = {c["type"]: c for c in status.get("conditions") or []}
    local_queue = str(spec.get("queueName", ""))
    name = str(workload["metadata"]["name"])
    admitted = Admission(
        QueueState.ADMITTED,
        "",
        local_queue=local_queue,
        cluster_queue=str((status.get("admission") or {}).get("clusterQueue", "")),
        priority=spec.get("priority"),
        workload=name,
    )
    if _true(conds, "Finished"):
        return replace(admitted, state=QueueState.FINISHED, reason=_message(conds["Finished"]))
    if _true(conds, "Admitted"):
        return replace(admitted, reason=_message(conds["Admitted"]))
    in_lq, in_cq = _position(visibility, namespace, local_queue, name)
    queued = replace(admitted, position_in_local_queue=in_lq, position_in_cluster_queue=in_cq)
    evicted = conds.get("Evicted")
    if evicted is not None and evicted.get("status") == "True":
        why = f"{evicted.get('reason', 'Evicted')}: {evicted.get('message', '')}".rstrip(": ")
        return replace(queued, state=QueueState.EVICTED, reason=why)
    pending = conds.get("QuotaReserved") or conds.get("Admitted")
    why = _message(pending) if pending else "waiting in the queue for quota"
    return replace(queued, state=QueueState.WAITING, reason=why)


def _position(
    visibility: KubeApi | None, namespace: str, local_queue: str, workload: str
) -> tuple[int | None, int | None]:
    if visibility is None or not local_queue:
        return None, None
    path = f"{VISIBILITY_API}/namespaces/{namespace}/localqueues/{local_queue}/pendingworkloads"
    try:
        pending = visibility.get(path, {"limit": "1000"})
    except KubeError:
        return None, None  # the visibility API is optional in Kueue (feature VisibilityOnDemand)
    for item in pending.get("items") or []:
        if item.get("metadata", {}).get("name") == workload:
            return item.get("positionInLocalQueue"), item.get("positionInClusterQueue")
    return None, None


def _true(conds: dict[str, JSON], kind: str) -> bool:
    return conds.get(kind, {}).get("status") == "True"


def _message(cond: JSON) -> str:
    return str(cond.get("message") or cond.get("reason") or "")
