"""The cluster's own change log, network policies, security events and node health,
read from a real kube-apiserver (with the real Deployment, StatefulSet and node
controllers and KWOK nodes) as the shadow phase's ServiceAccount."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from nightshift.agent.tools.protocol import ToolCall, ToolResult, ToolStatus
from nightshift.k8s.client import MERGE_PATCH, KubeApi, KubeError, resource_path
from nightshift.k8s.names import service_account_name
from nightshift.k8s.toolset import KubernetesToolset
from tests.integration.k8s.conftest import AGENTS_NS, APP_NS, SHADOW, ensure_namespace
from tests.integration.k8s.waiting import wait_until

pytestmark = pytest.mark.slow
DOWN_NODE = "kwok-node-down"


def _deployment(image: str, cause: str, env: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    container: dict[str, Any] = {"name": "app", "image": image, "env": env or []}
    if env:
        container["envFrom"] = [{"configMapRef": {"name": "cart-config"}}]
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "cart",
            "namespace": APP_NS,
            "annotations": {"kubernetes.io/change-cause": cause},
        },
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "cart"}},
            "template": {
                "metadata": {"labels": {"app": "cart", "tier": "web"}},
                "spec": {"containers": [container]},
            },
        },
    }


def _statefulset(image: str) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": "ledger", "namespace": APP_NS},
        "spec": {
            "serviceName": "ledger",
            "replicas": 1,
            "selector": {"matchLabels": {"app": "ledger"}},
            "template": {
                "metadata": {"labels": {"app": "ledger"}},
                "spec": {"containers": [{"name": "app", "image": image}]},
            },
        },
    }


def _revisions(admin: KubeApi, plural: str, label: str) -> int:
    items = admin.get(resource_path("apps/v1", plural, APP_NS), {"labelSelector": label})["items"]
    return len(items)


def _event(name: str, reason: str, message: str, kind: str, obj: str) -> dict[str, Any]:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": name, "namespace": APP_NS},
        "involvedObject": {"kind": kind, "name": obj, "namespace": APP_NS},
        "reason": reason,
        "message": message,
        "type": "Warning",
        "count": 3,
        "firstTimestamp": now,
        "lastTimestamp": now,
        "source": {"component": "kubelet"},
    }


@pytest.fixture(scope="module")
def changed(governed: KubeApi) -> KubeApi:
    """A rollout with a change-cause, a StatefulSet revision, a ConfigMap edited by a
    named field manager, an egress lockdown, RBAC and Warning events, all in APP_NS."""
    admin = governed
    cm = resource_path("v1", "configmaps", APP_NS, "cart-config")
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cart-config"}}
    admin.apply(cm, {**body, "data": {"TIMEOUT": "5s"}}, field_manager="ci-deployer")
    admin.request(
        "PATCH",
        cm,
        body={"data": {"TIMEOUT": "30s"}},
        content_type=MERGE_PATCH,
        query={"fieldManager": "kubectl-edit"},
    )
    deploy = resource_path("apps/v1", "deployments", APP_NS, "cart")
    admin.apply(deploy, _deployment("cart:1.0", "deploy cart 1.0"), field_manager="ci-deployer")
    wait_until(admin, resource_path("apps/v1", "deployments", APP_NS), "cart",
               lambda d: (d.get("status") or {}).get("observedGeneration") == 1)  # fmt: skip
    v2 = _deployment(
        "cart:1.1", "release cart 1.1 (CART-12)", [{"name": "LOG_LEVEL", "value": "debug"}]
    )
    admin.apply(deploy, v2, field_manager="ci-deployer")
    sts = resource_path("apps/v1", "statefulsets", APP_NS, "ledger")
    admin.apply(sts, _statefulset("ledger:1"), field_manager="argocd-controller")
    wait_until(admin, resource_path("apps/v1", "statefulsets", APP_NS), "ledger",
               lambda s: (s.get("status") or {}).get("observedGeneration") == 1)  # fmt: skip
    admin.apply(sts, _statefulset("ledger:2"), field_manager="argocd-controller")
    admin.apply(
        resource_path("networking.k8s.io/v1", "networkpolicies", APP_NS, "cart-deny-egress"),
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "cart-deny-egress"},
            "spec": {"podSelector": {"matchLabels": {"app": "cart"}}, "policyTypes": ["Egress"]},
        },
        field_manager="netops-bot",
    )
    admin.apply(
        resource_path("networking.k8s.io/v1", "networkpolicies", APP_NS, "ledger-only"),
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "ledger-only"},
            "spec": {
                "podSelector": {
                    "matchExpressions": [{"key": "app", "operator": "In", "values": ["ledger"]}]
                },
                "ingress": [
                    {
                        "from": [{"podSelector": {"matchLabels": {"app": "cart"}}}],
                        "ports": [{"port": 7000}],
                    }
                ],
            },
        },
        field_manager="netops-bot",
    )
    admin.apply(
        resource_path("rbac.authorization.k8s.io/v1", "roles", APP_NS, "cart-reader"),
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": {"name": "cart-reader"},
            "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}],
        },
        field_manager="rbac-admin",
    )
    events = resource_path("v1", "events", APP_NS)
    mount = 'MountVolume.SetUp failed for volume "creds" : secret "cart-db" not found'
    forbidden = (
        'pods "ledger-1" is forbidden: User "system:serviceaccount:shop:ledger" '
        'cannot create resource "pods"'
    )
    for ev in (
        _event("cart.mount", "FailedMount", mount, "Pod", "cart-x"),
        _event("cart.backoff", "BackOff", "Back-off restarting failed container", "Pod", "cart-x"),
        _event("ledger.forbidden", "FailedCreate", forbidden, "StatefulSet", "ledger"),
    ):
        try:
            admin.create(events, ev)
        except KubeError as exc:
            if exc.status != 409:
                raise
    assert _wait_count(admin, "replicasets", "app=cart", 2)
    assert _wait_count(admin, "controllerrevisions", "app=ledger", 2)
    ensure_namespace(admin, "elsewhere")
    admin.apply(
        resource_path("v1", "configmaps", "elsewhere", "outside-config"),
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "outside-config"},
            "data": {"A": "1"},
        },
        field_manager="ci-deployer",
    )
    return admin


def _wait_count(admin: KubeApi, plural: str, label: str, count: int) -> bool:
    import time

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if _revisions(admin, plural, label) >= count:
            return True
        time.sleep(0.2)  # the controllers create revisions asynchronously; no watch on a count
    return False


@pytest.fixture
def tools(changed: KubeApi) -> KubernetesToolset:
    sa = service_account_name(SHADOW.name, SHADOW.phase.value)
    return KubernetesToolset(changed.impersonate_service_account(AGENTS_NS, sa), {APP_NS})


async def _call(t: KubernetesToolset, name: str, **params: Any) -> ToolResult:
    res = await t.call(ToolCall(name, params))
    assert res.status in (ToolStatus.OK, ToolStatus.NO_DATA), res.error
    return res


def _row(text: str, *needles: str) -> str:
    found = [line for line in text.splitlines() if all(n in line for n in needles)]
    assert found, f"no line with {needles} in:\n{text}"
    return found[0]


async def test_a_rollout_names_its_revision_change_cause_writer_and_what_changed(
    tools: KubernetesToolset,
) -> None:
    res = await _call(tools, "recent_changes", since_minutes=60)
    row = _row(res.text, "shop/Deployment/cart", "revision 2")
    assert "rollout" in row.split() and "ci-deployer" in row.split()
    assert "image app: cart:1.0 -> cart:1.1" in row
    assert "change-cause: release cart 1.1 (CART-12)" in row
    assert "env app: +LOG_LEVEL=debug" in res.text and "configmap refs: +cart-config" in res.text
    sts = _row(res.text, "shop/StatefulSet/ledger", "revision 2")
    assert "image app: ledger:1 -> ledger:2" in sts and "argocd-controller" in sts


async def test_a_configmap_edit_is_attributed_to_its_field_manager(
    tools: KubernetesToolset,
) -> None:
    res = await _call(tools, "recent_changes", since_minutes=60)
    edit = _row(res.text, "shop/ConfigMap/cart-config", "kubectl-edit")
    assert "config" in edit.split() and "data.TIMEOUT" in edit
    assert _row(res.text, "shop/NetworkPolicy/cart-deny-egress", "netops-bot")
    assert _row(res.text, "shop/Role/cart-reader", "rbac-admin")
    times = [line.split()[0] for line in res.text.split("\n\n")[0].splitlines()[1:]]
    assert times == sorted(times, reverse=True)  # newest first
    assert "outside-config" not in res.text  # another namespace stays out of bounds


async def test_recent_warning_events_follow_the_changes(tools: KubernetesToolset) -> None:
    res = await _call(tools, "recent_changes", since_minutes=60)
    section = res.text.split("Warning events (symptoms, not changes), newest first:")[1]
    assert _row(section, "shop/Pod/cart-x", "BackOff")


async def test_the_egress_lockdown_is_reported_as_default_deny_for_the_deployment(
    tools: KubernetesToolset,
) -> None:
    res = await _call(tools, "firewall_rules", target="cart")
    assert res.status is ToolStatus.OK
    assert "Target: shop/Deployment/cart labels app=cart,tier=web" in res.text
    assert "Egress: DENIED for all traffic (default deny: cart-deny-egress" in res.text
    assert "last changed:" in res.text and "by netops-bot" in res.text
    assert "NetworkPolicy shop/ledger-only" not in res.text
    ledger = await _call(tools, "firewall_rules", target="shop/statefulset/ledger")
    assert "- from pods app=cart in namespace shop; ports: TCP/7000" in ledger.text


async def test_security_events_show_the_secret_mount_and_the_forbidden_create(
    tools: KubernetesToolset,
) -> None:
    res = await _call(tools, "security_events", since_minutes=60)
    mount = _row(res.text, "shop/Pod/cart-x")
    assert "secret-mount" in mount.split() and "kubelet" in mount.split()
    forbidden = _row(res.text, "shop/StatefulSet/ledger")
    assert "authorization" in forbidden.split() and "system:serviceaccount:shop:ledger" in forbidden
    assert "BackOff" not in res.text


@pytest.fixture(scope="module")
def down_node(control_plane: Any, changed: KubeApi) -> str:
    """A KWOK node that KWOK stops managing, then NotReady, tainted and cordoned."""
    admin = changed
    node = {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": DOWN_NODE, "annotations": {"kwok.x-k8s.io/node": "fake"}},
    }
    admin.create("/api/v1/nodes", node)
    path = resource_path("v1", "nodes", None, DOWN_NODE)
    wait_until(admin, "/api/v1/nodes", DOWN_NODE, _ready_is("True"))
    taint = {"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"}
    admin.merge_patch(
        path,
        {
            "metadata": {"annotations": {"kwok.x-k8s.io/node": None}},
            "spec": {"unschedulable": True, "taints": [taint]},
        },
    )
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    condition = {"type": "Ready", "status": "False", "reason": "KubeletNotReady",
                 "message": "container runtime network not ready", "lastHeartbeatTime": now,
                 "lastTransitionTime": now}  # fmt: skip
    admin.request("PATCH", path + "/status", body={"status": {"conditions": [condition]}},
                  content_type="application/strategic-merge-patch+json")  # fmt: skip
    wait_until(admin, "/api/v1/nodes", DOWN_NODE, _ready_is("False"))
    return DOWN_NODE


def _ready_is(status: str) -> Any:
    def check(node: dict[str, Any]) -> bool:
        conds = (node.get("status") or {}).get("conditions") or []
        return any(c["type"] == "Ready" and c["status"] == status for c in conds)

    return check


async def test_node_diagnostics_on_a_node_made_not_ready(
    tools: KubernetesToolset, down_node: str
) -> None:
    res = await _call(tools, "node_diagnostics", node=down_node)
    assert res.text.startswith(f"Node {down_node}: NotReady,SchedulingDisabled")
    ready = _row(res.text, "  Ready ", "KubeletNotReady")
    assert "False" in ready.split() and "container runtime network not ready" in ready
    # Ours, among any the node lifecycle controller adds once it sees Ready=False
    # (not-ready:NoExecute, listed first when it is there).
    taints = next(line for line in res.text.splitlines() if line.startswith("Taints: "))
    assert "node.kubernetes.io/not-ready:NoSchedule" in taints.split(": ", 1)[1].split(", ")
    assert "Cordoned: yes" in res.text
    # The phase ServiceAccount holds no nodes/proxy: said, not crashed.
    assert "not checked: this identity may not get nodes/proxy (RBAC)" in res.text
    assert "kube-system components: not read" in res.text
    every = await _call(tools, "node_diagnostics")
    assert _row(every.text, down_node, "NotReady").split()[2].startswith("Ready=False")
    assert _row(every.text, "kwok-node-0", "Ready")


async def test_kubelet_health_through_the_proxy_reports_the_api_servers_refusal(
    changed: KubeApi, down_node: str
) -> None:
    """An identity that may use the proxy gets the API server's own answer: here it will
    not proxy to a loopback kubelet (KWOK listens on 127.0.0.1)."""
    admin_tools = KubernetesToolset(changed, {APP_NS, "kube-system"})
    res = await _call(admin_tools, "node_diagnostics", node="kwok-node-0")
    line = _row(res.text, "Kubelet /healthz")
    assert "FAILED: 400" in line or line.endswith(": ok")
    assert "kube-system components" in res.text and "not read" not in _row(res.text, "kube-system")
