"""Remediation on a real cluster, as the agent's phase ServiceAccount.

Every request impersonates ``system:serviceaccount:<agents-ns>:<phase SA>``,
so the API server's RBAC (rendered from governance) and the admission
policies decide again what policy already decided: an advisory or shadow
identity cannot act even if a bug upstream asked it to. Each step runs with
``dryRun=All`` first; only if the server accepts the preview is it applied.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from nightshift.k8s.client import JSON, KubeApi, KubeError, resource_path
from nightshift.k8s.names import service_account_name
from nightshift.runtime.remediation.observe_kubernetes import observe_target
from nightshift.runtime.remediation.revert_kubernetes import observe_revert, revert
from nightshift.services.remediation_port import (
    ChangeHistory,
    Observation,
    RemediationJob,
    StepResult,
)

# (agent name, trust phase) of the investigation a job belongs to.
AccountResolver = Callable[[RemediationJob], tuple[str, str]]
_RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"


class KubernetesRemediator:
    def __init__(
        self,
        admin: KubeApi,
        agents_namespace: str,
        resolve: AccountResolver,
        history: ChangeHistory | None = None,
    ) -> None:
        self._admin = admin
        self._agents_namespace = agents_namespace
        self._resolve = resolve
        self._history = history  # the change feed, for revert-change

    def dry_run(self, job: RemediationJob) -> StepResult:
        return self._run(job, job.action, job.params, dry_run=True)

    def execute(self, job: RemediationJob) -> StepResult:
        preview = self._run(job, job.action, job.params, dry_run=True)
        if not preview.ok:
            return preview
        return self._run(job, job.action, job.params, dry_run=False)

    def rollback(self, job: RemediationJob, inverse: str, undo: Mapping[str, Any]) -> StepResult:
        restore = undo.get("restore")
        if inverse == "revert-change" and isinstance(restore, Mapping):
            # Undo a revert: put back what it replaced, as recorded when it ran.
            api = self._as_agent(job)
            preview = revert(api, job, self._history, dry_run=True, restore=restore)
            if not preview.ok:
                return preview
            return revert(api, job, self._history, dry_run=False, restore=restore)
        return self.execute(replace(job, action=inverse, params={**job.params, **undo}))

    def symptoms_present(self, job: RemediationJob) -> bool:
        t = job.target
        try:
            kind = t.kind.lower()
            if kind == "pod":
                pod = self._admin.get(resource_path("v1", "pods", t.namespace, t.name))
                conds = {
                    c["type"]: c["status"] for c in pod.get("status", {}).get("conditions") or []
                }
                return conds.get("Ready") != "True"
            if kind == "deployment":
                d = self._admin.get(resource_path("apps/v1", "deployments", t.namespace, t.name))
                want = int(d.get("spec", {}).get("replicas", 1))
                return int(d.get("status", {}).get("readyReplicas", 0)) < want
            if kind == "node":
                n = self._admin.get(resource_path("v1", "nodes", None, t.name))
                conds = {
                    c["type"]: c["status"] for c in n.get("status", {}).get("conditions") or []
                }
                return conds.get("Ready") != "True"
        except KubeError as exc:
            if exc.status == 404 and t.kind.lower() == "pod":
                return False  # the broken pod is gone (its controller replaces it)
        return True  # nothing we can observe: never claim the symptom is gone

    def observe(self, job: RemediationJob) -> Observation:
        # Read with the control plane's own identity: observing changes nothing, and
        # a demoted agent's ServiceAccount may no longer be allowed to read.
        if job.action == "revert-change":
            effect, detail = observe_revert(self._admin, job, self._history)
        else:
            effect, detail = observe_target(self._admin, job)
        return Observation(effect, detail, self.symptoms_present(job))

    # -- internals ----------------------------------------------------------------------

    def _as_agent(self, job: RemediationJob) -> KubeApi:
        agent, phase = self._resolve(job)
        return self._admin.impersonate_service_account(
            self._agents_namespace, service_account_name(agent, phase)
        )

    def _run(
        self, job: RemediationJob, action: str, params: Mapping[str, Any], *, dry_run: bool
    ) -> StepResult:
        api = self._as_agent(job)
        t = job.target
        tag = " (server dry run)" if dry_run else ""
        try:
            if action == "restart-pod":
                api.delete(resource_path("v1", "pods", t.namespace, t.name), dry_run=dry_run)
                return StepResult(True, f'pod "{t.name}" deleted{tag}', (f"delete pod/{t.name}",))
            if action == "restart-deployment":
                now = datetime.now(UTC).isoformat(timespec="seconds")
                patch = {"spec": {"template": {"metadata": {"annotations": {_RESTARTED_AT: now}}}}}
                api.merge_patch(self._deploy(t.namespace, t.name), patch, dry_run=dry_run)
                return StepResult(
                    True,
                    f"deployment.apps/{t.name} restarted{tag}",
                    (f"rollout restart deployment/{t.name}",),
                )
            if action == "scale-deployment":
                return self._scale(api, job, params, dry_run=dry_run, tag=tag)
            if action == "revert-change":
                return revert(api, job, self._history, dry_run=dry_run)
            if action == "rollback-deployment":
                return self._rollback(api, job, dry_run=dry_run, tag=tag)
            if action in ("cordon-node", "uncordon-node"):
                cordon = action == "cordon-node"
                api.merge_patch(
                    resource_path("v1", "nodes", None, t.name),
                    {"spec": {"unschedulable": cordon}},
                    dry_run=dry_run,
                )
                word = "cordoned" if cordon else "uncordoned"
                return StepResult(True, f"node/{t.name} {word}{tag}", (f"{action} {t.name}",))
        except KubeError as exc:
            return StepResult(False, f"{action} refused by the API server: {exc}")
        return StepResult(False, f"{action} is not an action this remediator runs on Kubernetes")

    def _deploy(self, ns: str | None, name: str, sub: str | None = None) -> str:
        return resource_path("apps/v1", "deployments", ns, name, sub)

    def _scale(
        self,
        api: KubeApi,
        job: RemediationJob,
        params: Mapping[str, Any],
        *,
        dry_run: bool,
        tag: str,
    ) -> StepResult:
        t = job.target
        path = self._deploy(t.namespace, t.name, "scale")
        current = int(api.get(path).get("spec", {}).get("replicas", 0))
        want = params.get("replicas")
        if not isinstance(want, int) or isinstance(want, bool) or want < 0:
            return StepResult(False, "scale-deployment needs a non-negative integer 'replicas'")
        api.merge_patch(path, {"spec": {"replicas": want}}, dry_run=dry_run)
        return StepResult(
            True,
            f"deployment.apps/{t.name} scaled{tag}",
            (f"replicas {current} -> {want}",),
            {"replicas": current},
        )

    def _rollback(
        self, api: KubeApi, job: RemediationJob, *, dry_run: bool, tag: str
    ) -> StepResult:
        t = job.target
        deploy = api.get(self._deploy(t.namespace, t.name))
        uid = deploy["metadata"]["uid"]
        owned: list[tuple[int, JSON]] = []
        for rs in api.get(resource_path("apps/v1", "replicasets", t.namespace)).get("items", []):
            if not any(o.get("uid") == uid for o in rs["metadata"].get("ownerReferences") or []):
                continue
            rev = (rs["metadata"].get("annotations") or {}).get("deployment.kubernetes.io/revision")
            if rev and rev.isdigit():
                owned.append((int(rev), rs))
        owned.sort(key=lambda pair: pair[0])
        if len(owned) < 2:
            return StepResult(False, f"deployment.apps/{t.name} has no previous revision")
        previous_rev, previous = owned[-2]
        template = previous["spec"]["template"]
        labels = dict(template.get("metadata", {}).get("labels") or {})
        labels.pop("pod-template-hash", None)
        template = {**template, "metadata": {**template.get("metadata", {}), "labels": labels}}
        api.request(
            "PATCH",
            self._deploy(t.namespace, t.name),
            body=[{"op": "replace", "path": "/spec/template", "value": template}],
            content_type="application/json-patch+json",
            query={"dryRun": "All"} if dry_run else None,
        )
        return StepResult(
            True, f"deployment.apps/{t.name} rolled back{tag}", (f"to revision {previous_rev}",)
        )
