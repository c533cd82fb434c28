"""Governance compiled to RBAC and admission policies, enforced by the API server itself."""

from __future__ import annotations

import kubernetes_validate
import pytest

from nightshift.domain.actions import ActionCatalog
from nightshift.domain.diagnosis import ResourceRef
from nightshift.k8s.apply import apply_objects
from nightshift.k8s.client import KubeApi, KubeError, resource_path
from nightshift.k8s.drift import check_drift
from nightshift.k8s.manifests import RenderConfig, render_all, role_name
from nightshift.k8s.names import service_account_name
from nightshift.runtime.remediation.kubernetes import KubernetesRemediator
from nightshift.services.remediation_port import RemediationJob
from tests.integration.k8s.conftest import (
    ADVISOR,
    AGENTS,
    AGENTS_NS,
    APP_NS,
    LIMITED,
    SHADOW,
    make_pod,
)
from tests.integration.k8s.waiting import eventually, wait_gone

pytestmark = pytest.mark.slow
RBAC = "rbac.authorization.k8s.io/v1"


def as_agent(admin: KubeApi, agent: str, phase: str) -> KubeApi:
    return admin.impersonate_service_account(AGENTS_NS, service_account_name(agent, phase))


def remediator(admin: KubeApi) -> KubernetesRemediator:
    by_agent = {a.name: a.phase.value for a in AGENTS}
    return KubernetesRemediator(
        admin, AGENTS_NS, lambda job: (job.params["agent"], by_agent[job.params["agent"]])
    )


def restart(pod: str, agent: str) -> RemediationJob:
    return RemediationJob("inv-1", "restart-pod", ResourceRef("pod", pod, APP_NS), {"agent": agent})


def pod_exists(admin: KubeApi, name: str) -> bool:
    try:
        admin.get(resource_path("v1", "pods", APP_NS, name))
    except KubeError as exc:
        if exc.status == 404:
            return False
        raise
    return True


def test_rendered_governance_objects_validate_against_the_kubernetes_schema(
    catalog: ActionCatalog, render_cfg: RenderConfig
) -> None:
    objects = render_all(AGENTS, catalog, render_cfg)
    kinds = {o["kind"] for o in objects}
    assert {
        "ServiceAccount",
        "Role",
        "RoleBinding",
        "NetworkPolicy",
        "ValidatingAdmissionPolicy",
        "ValidatingAdmissionPolicyBinding",
    } <= kinds
    for obj in objects:
        kubernetes_validate.validate(obj, "1.36.0", strict=True)


def test_apply_is_server_side_and_idempotent(
    governed: KubeApi, catalog: ActionCatalog, render_cfg: RenderConfig
) -> None:
    again = apply_objects(governed, render_all(AGENTS, catalog, render_cfg))
    assert [str(r) for r in again if r.changed or r.error] == []
    sa = governed.get(
        resource_path("v1", "serviceaccounts", AGENTS_NS, "nsa-fixer-limited-remediation")
    )
    managers = {m["manager"] for m in sa["metadata"]["managedFields"]}
    assert "nightshift" in managers
    assert sa["metadata"]["annotations"]["nightshift.io/owner"] == "alice"
    assert sa["metadata"]["labels"]["nightshift.io/authority-class"] == "supervised"


def test_service_account_without_owner_or_class_is_rejected_in_the_agents_namespace(
    governed: KubeApi,
) -> None:
    bare = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "sneaky"}}
    path = resource_path("v1", "serviceaccounts", AGENTS_NS)

    def rejected() -> bool:
        try:
            governed.create(path, bare, dry_run=True)
        except KubeError as exc:
            return "nightshift.io/owner" in exc.message
        return False

    eventually(rejected)
    owned = {
        **bare,
        "metadata": {
            "name": "owned",
            "annotations": {"nightshift.io/owner": "bob"},
            "labels": {"nightshift.io/authority-class": "advisory"},
        },
    }
    assert governed.create(path, owned, dry_run=True)["metadata"]["name"] == "owned"
    # Elsewhere the rule does not apply.
    governed.create(resource_path("v1", "serviceaccounts", APP_NS), bare, dry_run=True)


def test_advisory_agent_write_is_rejected_by_admission_even_with_a_rolebinding_allowing_it(
    governed: KubeApi,
) -> None:
    make_pod(governed, "cart-advisory")
    advisory_sa = service_account_name(ADVISOR.name, ADVISOR.phase.value)
    governed.create(
        resource_path(RBAC, "rolebindings", APP_NS),
        {
            "apiVersion": RBAC,
            "kind": "RoleBinding",
            "metadata": {"name": "troubleshooting-shortcut"},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": "edit",
            },
            "subjects": [{"kind": "ServiceAccount", "name": advisory_sa, "namespace": AGENTS_NS}],
        },
    )
    advisor = as_agent(governed, ADVISOR.name, ADVISOR.phase.value)
    messages: list[str] = []

    def rbac_allows_but_admission_denies() -> bool:
        try:
            advisor.delete(resource_path("v1", "pods", APP_NS, "cart-advisory"), dry_run=True)
        except KubeError as exc:
            messages.append(exc.message)
            return exc.status == 403 and "advisory agent" in exc.message
        return False

    eventually(rbac_allows_but_admission_denies)
    assert "ValidatingAdmissionPolicy 'nightshift-advisory-agents-read-only'" in messages[-1]
    assert pod_exists(governed, "cart-advisory")
    # Reading is still fine.
    assert advisor.get(resource_path("v1", "pods", APP_NS, "cart-advisory"))["metadata"]["name"]
    governed.delete(resource_path(RBAC, "rolebindings", APP_NS, "troubleshooting-shortcut"))


def test_shadow_agent_cannot_delete_a_pod_and_a_limited_remediation_one_can(
    governed: KubeApi,
) -> None:
    make_pod(governed, "cart-1")
    fix = remediator(governed)
    denied = fix.execute(restart("cart-1", SHADOW.name))
    assert not denied.ok
    assert "forbidden" in denied.message
    assert pod_exists(governed, "cart-1")
    preview = fix.dry_run(restart("cart-1", LIMITED.name))
    assert preview.ok and preview.message.endswith("(server dry run)")
    assert pod_exists(governed, "cart-1")
    done = fix.execute(restart("cart-1", LIMITED.name))
    assert done.ok, done.message
    wait_gone(governed, resource_path("v1", "pods", APP_NS), "cart-1")


def test_rbac_drift_is_detected_reported_as_widened_and_reverted(
    governed: KubeApi, catalog: ActionCatalog, render_cfg: RenderConfig
) -> None:
    role_path = resource_path(RBAC, "roles", APP_NS, role_name(SHADOW))
    role = governed.get(role_path)
    governed.merge_patch(
        role_path,
        {
            "rules": [
                *role["rules"],
                {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list"]},
            ]
        },
    )
    governed.create(
        resource_path(RBAC, "clusterrolebindings"),
        {
            "apiVersion": RBAC,
            "kind": "ClusterRoleBinding",
            "metadata": {"name": "debug-watcher"},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": "view",
            },
            "subjects": [
                {"kind": "ServiceAccount", "name": "nsa-watcher-shadow", "namespace": AGENTS_NS}
            ],
        },
    )
    shadow = as_agent(governed, SHADOW.name, SHADOW.phase.value)
    secrets = resource_path("v1", "secrets", APP_NS)

    def can_read_secrets() -> bool:
        try:
            shadow.get(secrets)
        except KubeError:
            return False
        return True

    eventually(can_read_secrets)
    report = check_drift(governed, [SHADOW], catalog, render_cfg)
    text = [str(f) for f in report.widened]
    assert any(
        f.kind == "widened" and "get secrets" in f.detail and f.where.startswith("Role/")
        for f in report.findings
    ), text
    assert any(f.kind == "widened" and f.where == f"effective -n {APP_NS}" for f in report.findings)
    assert any(f.kind == "foreign-binding" and "debug-watcher" in f.where for f in report.findings)
    assert report.counts_by_kind()["foreign-binding"] == 1

    fixed = check_drift(governed, [SHADOW], catalog, render_cfg, fix=True)
    assert any("debug-watcher" in line for line in fixed.fixed)
    eventually(lambda: not can_read_secrets())
    assert check_drift(governed, AGENTS, catalog, render_cfg).findings == []


def test_limited_agent_scales_a_deployment_and_the_inverse_restores_it(governed: KubeApi) -> None:
    deployments = resource_path("apps/v1", "deployments", APP_NS)
    governed.create(
        deployments,
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "orders"},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": {"app": "orders"}},
                "template": {
                    "metadata": {"labels": {"app": "orders"}},
                    "spec": {"containers": [{"name": "app", "image": "orders:1"}]},
                },
            },
        },
    )
    target = ResourceRef("deployment", "orders", APP_NS)
    fix = remediator(governed)
    shadow_try = fix.execute(
        RemediationJob("inv-2", "scale-deployment", target, {"agent": SHADOW.name, "replicas": 3})
    )
    assert not shadow_try.ok
    job = RemediationJob(
        "inv-2", "scale-deployment", target, {"agent": LIMITED.name, "replicas": 3}
    )
    scaled = fix.execute(job)
    assert scaled.ok, scaled.message
    assert scaled.undo == {"replicas": 1}
    assert governed.get(f"{deployments}/orders")["spec"]["replicas"] == 3
    restored = fix.rollback(job, "scale-deployment", scaled.undo)
    assert restored.ok, restored.message
    assert governed.get(f"{deployments}/orders")["spec"]["replicas"] == 1
