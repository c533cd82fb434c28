# ruff: noqa: E501 - fault tables and kubelet messages read best one per line
"""Faults the control plane produces by itself: admission denials and unschedulable pods.

Nothing here is simulated: the quota, LimitRange, ServiceAccount, Pod Security
and ValidatingAdmissionPolicy plugins reject the ReplicaSet controller's pod
creates, and the scheduler writes FailedScheduling with every predicate.
"""

from __future__ import annotations

from typing import Any

from bench.corpus.common import app_spec, base
from bench.corpus.kube import container, deployment, pod_spec, service, statefulset
from bench.corpus.model import Built, FaultType, Truth, Variant

Obj = dict[str, Any]


def _app(v: Variant, spec: dict[str, Any] | None = None, replicas: int = 2) -> Obj:
    return deployment(v.app, spec or app_spec(v), replicas)


def _res(requests: dict[str, str], limits: dict[str, str]) -> dict[str, dict[str, str]]:
    return {"requests": requests, "limits": limits}


def _with_resources(v: Variant, res: dict[str, Any]) -> Obj:
    c = container("app", v.image(v.app), v.port, resources=res)
    return _app(v, pod_spec([c]))


def _quota(name: str, hard: dict[str, str]) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": {"name": name},
        "spec": {"hard": hard},
    }


def _ask(v: Variant) -> str:
    return f"Deployment {v.app} in namespace {v.ns} has fewer ready replicas than desired"


def quota(hard: dict[str, str], res: dict[str, Any] | None) -> Any:
    def build(v: Variant) -> Built:
        plan = base(v)
        name = v.rng.choice(["compute-quota", "team-quota", "namespace-quota"])
        plan.objects.insert(0, _quota(name, hard))
        plan.objects.append(_with_resources(v, res) if res else _app(v, replicas=3))
        return Built(
            plan, Truth("admission", "resource-quota-exceeded", "ResourceQuota", name), _ask(v)
        )

    return build


def quota_services(v: Variant) -> Built:
    """The dependency's Service is refused at create time; callers see 'no such host'."""
    plan = base(v)
    name = "object-counts"
    plan.objects.insert(0, _quota(name, {"services": "1"}))
    plan.objects.append(deployment(v.dep, pod_spec([container("server", v.image(v.dep), 5432)])))
    plan.objects.append(service(v.dep, {"app": v.dep}, 5432, "http", v.ip(1)))
    plan.expect_rejected = 1
    env = [{"name": "DB_HOST", "value": v.dep}]
    caller = statefulset(v.app, pod_spec([container("app", v.image(v.app), v.port, env=env)]))
    plan.objects.append(caller)
    plan.logs[f"{v.app}-0"] = (
        f"starting {v.app}\nERROR connecting to {v.dep}:5432: dial tcp: lookup {v.dep}.{v.ns}.svc.cluster.local "
        "on 10.96.0.10:53: no such host\nERROR health check failed: database unavailable\n"
    )
    truth = Truth(
        "admission", "resource-quota-exceeded", "ResourceQuota", name, (f"Service/{v.dep}",)
    )
    return Built(plan, truth, f"{v.app} in namespace {v.ns} cannot reach its database {v.dep}")


def limit_range(item: dict[str, Any], res: dict[str, Any]) -> Any:
    def build(v: Variant) -> Built:
        plan = base(v)
        name = v.rng.choice(["container-limits", "defaults", "mem-cpu-bounds"])
        lr = {
            "apiVersion": "v1",
            "kind": "LimitRange",
            "metadata": {"name": name},
            "spec": {"limits": [{"type": "Container", **item}]},
        }
        plan.objects.insert(0, lr)
        plan.objects.append(_with_resources(v, res))
        truth = Truth(
            "admission", "limit-range-violation", "Deployment", v.app, (f"LimitRange/{name}",)
        )
        return Built(plan, truth, _ask(v))

    return build


def missing_sa(v: Variant) -> Built:
    plan = base(v)
    sa = f"{v.app}-{v.rng.choice(['runner', 'sa', 'worker'])}"
    plan.objects.append(_app(v, app_spec(v, serviceAccountName=sa)))
    truth = Truth(
        "admission", "missing-service-account", "ServiceAccount", sa, (f"Deployment/{v.app}",)
    )
    return Built(plan, truth, _ask(v))


def vap_denied(v: Variant) -> Built:
    plan = base(v)
    policy = f"pinned-images-{v.split}-{v.serial}"
    plan.namespace_labels["policy.corpus/enforce"] = "pinned-images"
    plan.cluster_objects += [
        {
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "ValidatingAdmissionPolicy",
            "metadata": {"name": policy},
            "spec": {
                "failurePolicy": "Fail",
                "matchConstraints": {
                    "resourceRules": [
                        {
                            "apiGroups": [""],
                            "apiVersions": ["v1"],
                            "operations": ["CREATE", "UPDATE"],
                            "resources": ["pods"],
                        }
                    ]
                },
                "validations": [
                    {
                        "expression": "object.spec.containers.all(c, !c.image.endsWith(':latest'))",
                        "message": "container images must be pinned to a version; ':latest' is not allowed",
                    }
                ],
            },
        },
        {
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "ValidatingAdmissionPolicyBinding",
            "metadata": {"name": f"{policy}-binding"},
            "spec": {
                "policyName": policy,
                "validationActions": ["Deny"],
                "matchResources": {
                    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": v.ns}}
                },
            },
        },
    ]
    plan.objects.append(_app(v, pod_spec([container("app", v.image(v.app, "latest"), v.port)])))
    truth = Truth(
        "admission",
        "admission-webhook-denied",
        "Deployment",
        v.app,
        (f"ValidatingAdmissionPolicy/{policy}",),
    )
    return Built(plan, truth, _ask(v))


def pod_security(v: Variant) -> Built:
    plan = base(v)
    plan.namespace_labels["pod-security.kubernetes.io/enforce"] = "baseline"
    variant = v.index % 3
    c = container("app", v.image(v.app), v.port)
    extra: dict[str, Any] = {}
    if variant == 0:
        c["securityContext"] = {"privileged": True}
    elif variant == 1:
        extra["hostNetwork"] = True
    else:
        c["securityContext"] = {"capabilities": {"add": ["NET_ADMIN", "SYS_ADMIN"]}}
    plan.objects.append(_app(v, pod_spec([c], **extra)))
    return Built(
        plan, Truth("admission", "pod-security-policy-violation", "Deployment", v.app), _ask(v)
    )


# -- scheduling ------------------------------------------------------------------------


def _pending(v: Variant) -> str:
    return f"Pods of {v.app} in namespace {v.ns} stay Pending"


def unschedulable(
    fault: str,
    spec_extra: dict[str, Any] | None = None,
    res: dict[str, Any] | None = None,
    replicas: int = 2,
) -> Any:
    def build(v: Variant) -> Built:
        plan = base(v)
        c = container("app", v.image(v.app), v.port, **({"resources": res} if res else {}))
        extra = dict(spec_extra or {})
        if "affinity" in extra and extra["affinity"] == "anti":
            sel = {
                "labelSelector": {"matchLabels": {"app": v.app}},
                "topologyKey": "kubernetes.io/hostname",
            }
            extra["affinity"] = {
                "podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [sel]}
            }
        elif "affinity" in extra and extra["affinity"] == "pod":
            sel = {
                "labelSelector": {"matchLabels": {"app": f"{v.dep}-cache"}},
                "topologyKey": "kubernetes.io/hostname",
            }
            extra["affinity"] = {
                "podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [sel]}
            }
        plan.objects.append(_app(v, pod_spec([c], **extra), replicas))
        return Built(plan, Truth("scheduling", fault, "Deployment", v.app), _pending(v))

    return build


def dedicated_node(kind: str) -> Any:
    """A node of the case's own pool that is tainted (taint) or cordoned (cordon)."""

    def build(v: Variant) -> Built:
        plan = base(v)
        pool = f"{kind}-{v.split}-{v.serial}"
        node = f"{'gpu' if kind == 'taint' else 'batch'}-node-{v.serial:03d}"
        plan.nodes.append(
            {
                "name": node,
                "labels": {"pool": pool},
                "taint": kind == "taint",
                "cordon": kind == "cordon",
            }
        )
        plan.objects.append(_app(v, app_spec(v, nodeSelector={"pool": pool})))
        if kind == "taint":
            truth = Truth("scheduling", "untolerated-taint", "Deployment", v.app, (f"Node/{node}",))
        else:
            truth = Truth("scheduling", "node-cordoned", "Node", node)
        return Built(plan, truth, _pending(v))

    return build


def pvc(kind: str) -> Any:
    def build(v: Variant) -> Built:
        plan = base(v)
        claim = f"{v.app}-{v.rng.choice(['data', 'storage', 'cache'])}"
        if kind != "missing":
            spec: dict[str, Any] = {
                "accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": "10Gi"}},
            }
            spec["storageClassName"] = f"fast-ssd-{v.index}" if kind == "class" else ""
            plan.objects.append(
                {
                    "apiVersion": "v1",
                    "kind": "PersistentVolumeClaim",
                    "metadata": {"name": claim},
                    "spec": spec,
                }
            )
        c = container(
            "app",
            v.image(v.app),
            v.port,
            volumeMounts=[{"name": "data", "mountPath": "/var/lib/data"}],
        )
        spec_ = pod_spec(
            [c], volumes=[{"name": "data", "persistentVolumeClaim": {"claimName": claim}}]
        )
        plan.objects.append(_app(v, spec_, 1))
        fault = "volume-mount-failure" if kind == "missing" else "pvc-unbound"
        return Built(plan, Truth("scheduling", fault, "PersistentVolumeClaim", claim), _pending(v))

    return build


def _nodeaff(key: str, values: list[str]) -> dict[str, Any]:
    term = {"matchExpressions": [{"key": key, "operator": "In", "values": values}]}
    return {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [term]}
        }
    }


FAULTS = [
    FaultType("quota-pods", "admission", "resource-quota-exceeded", quota({"pods": "3"}, None)),
    FaultType("quota-requests-cpu", "admission", "resource-quota-exceeded", quota({"requests.cpu": "400m"}, _res({"cpu": "150m", "memory": "128Mi"}, {"cpu": "300m", "memory": "256Mi"}))),
    FaultType("quota-limits-memory", "admission", "resource-quota-exceeded", quota({"limits.memory": "800Mi"}, _res({"cpu": "100m", "memory": "128Mi"}, {"cpu": "200m", "memory": "256Mi"}))),
    FaultType("quota-blocks-service", "admission", "resource-quota-exceeded", quota_services),
    FaultType("limitrange-max-cpu", "admission", "limit-range-violation", limit_range({"max": {"cpu": "500m"}}, _res({"cpu": "200m", "memory": "128Mi"}, {"cpu": "1", "memory": "256Mi"}))),
    FaultType("limitrange-min-memory", "admission", "limit-range-violation", limit_range({"min": {"memory": "128Mi"}}, _res({"cpu": "100m", "memory": "32Mi"}, {"cpu": "200m", "memory": "64Mi"}))),
    FaultType("limitrange-ratio", "admission", "limit-range-violation", limit_range({"maxLimitRequestRatio": {"cpu": "4"}}, _res({"cpu": "100m", "memory": "128Mi"}, {"cpu": "2", "memory": "256Mi"}))),
    FaultType("missing-serviceaccount", "admission", "missing-service-account", missing_sa),
    # admission-policy-denied (vap_denied) is left out: on the test API server the policy was
    # not yet enforced when the ReplicaSet created its pods, so the recorded cluster was healthy.
    FaultType("pod-security-denied", "admission", "pod-security-policy-violation", pod_security),
    FaultType("insufficient-cpu", "scheduling", "insufficient-cluster-resources", unschedulable("insufficient-cluster-resources", res=_res({"cpu": "96", "memory": "256Mi"}, {"memory": "256Mi"}))),
    FaultType("insufficient-memory", "scheduling", "insufficient-cluster-resources", unschedulable("insufficient-cluster-resources", res=_res({"cpu": "100m", "memory": "600Gi"}, {"memory": "600Gi"}))),
    FaultType("node-selector-mismatch", "scheduling", "node-selector-mismatch", unschedulable("node-selector-mismatch", {"nodeSelector": {"disktype": "nvme"}})),
    FaultType("node-affinity-mismatch", "scheduling", "node-selector-mismatch", unschedulable("node-selector-mismatch", {"affinity": _nodeaff("topology.kubernetes.io/zone", ["eu-west-9a"])})),
    FaultType("pod-anti-affinity", "scheduling", "pod-anti-affinity-conflict", unschedulable("pod-anti-affinity-conflict", {"affinity": "anti"}, replicas=6)),
    FaultType("pod-affinity-unsatisfied", "scheduling", "pod-anti-affinity-conflict", unschedulable("pod-anti-affinity-conflict", {"affinity": "pod"})),
    FaultType("untolerated-taint", "scheduling", "untolerated-taint", dedicated_node("taint")),
    FaultType("node-cordoned", "scheduling", "node-cordoned", dedicated_node("cordon")),
    FaultType("pvc-missing-storageclass", "scheduling", "pvc-unbound", pvc("class")),
    FaultType("pvc-no-volume", "scheduling", "pvc-unbound", pvc("nopv")),
    FaultType("pvc-not-found", "scheduling", "volume-mount-failure", pvc("missing")),
]  # fmt: skip
