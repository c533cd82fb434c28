"""Did an interrupted Kubernetes action take effect? Read the target and tell.

Each action leaves a mark on its target that can be read back: the replica
count asked for, the node's ``unschedulable`` flag, a restart annotation or a
pod created after the job was claimed. Where the state cannot tell (a rollback
whose revision cannot be told apart, a target that is gone), the answer is
``unknown`` and a human checks.
"""

from __future__ import annotations

from datetime import datetime

from nightshift.k8s.client import JSON, KubeApi, KubeError, resource_path
from nightshift.services.remediation_port import Effect, RemediationJob

_RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"


def observe_target(api: KubeApi, job: RemediationJob) -> tuple[Effect, str]:
    t = job.target
    try:
        if job.action == "scale-deployment":
            d = api.get(resource_path("apps/v1", "deployments", t.namespace, t.name))
            have = (d.get("spec") or {}).get("replicas")
            want = job.params.get("replicas")
            effect: Effect = "in_effect" if have == want else "not_in_effect"
            return effect, f"deployment.apps/{t.name} has spec.replicas={have} (asked {want})"
        if job.action in ("cordon-node", "uncordon-node"):
            n = api.get(resource_path("v1", "nodes", None, t.name))
            flag = bool((n.get("spec") or {}).get("unschedulable", False))
            want_flag = job.action == "cordon-node"
            effect = "in_effect" if flag == want_flag else "not_in_effect"
            return effect, f"node/{t.name} has spec.unschedulable={str(flag).lower()}"
        if job.action == "restart-deployment":
            d = api.get(resource_path("apps/v1", "deployments", t.namespace, t.name))
            template = (d.get("spec") or {}).get("template") or {}
            stamp = ((template.get("metadata") or {}).get("annotations") or {}).get(_RESTARTED_AT)
            return _since(stamp, job.claimed_at, f"deployment.apps/{t.name} {_RESTARTED_AT}")
        if job.action == "restart-pod":
            return _pod(api, job)
    except KubeError as exc:
        return "unknown", f"could not read {t}: {exc}"
    return "unknown", f"{job.action} leaves no mark on {t} that can be read back"


def _pod(api: KubeApi, job: RemediationJob) -> tuple[Effect, str]:
    t = job.target
    try:
        pod: JSON = api.get(resource_path("v1", "pods", t.namespace, t.name))
    except KubeError as exc:
        if exc.status == 404:
            return "in_effect", f'pod "{t.name}" is gone (deleted; its controller replaces it)'
        raise
    created = (pod.get("metadata") or {}).get("creationTimestamp")
    return _since(created, job.claimed_at, f'pod "{t.name}" creationTimestamp')


def _since(stamp: object, claimed: datetime | None, what: str) -> tuple[Effect, str]:
    if not isinstance(stamp, str) or not stamp:
        return "not_in_effect", f"{what} is not set"
    if claimed is None:
        return "unknown", f"{what} is {stamp}; when the job started is not recorded"
    try:
        at = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return "unknown", f"{what} is {stamp!r}, not a timestamp"
    # Second resolution on both sides: the same second counts as after the claim.
    after = at.timestamp() >= int(claimed.timestamp())
    effect: Effect = "in_effect" if after else "not_in_effect"
    return effect, f"{what} is {stamp} ({'after' if after else 'before'} the job started)"
