"""The cluster's diagnostic tools (recent_changes, firewall_rules, security_events,
node_diagnostics) over an in-memory API server; the real one is in tests/integration/k8s."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from nightshift.agent.tools.protocol import ToolCall, ToolStatus
from nightshift.k8s.client import KubeError
from nightshift.k8s.selectors import SelectorError, matches, selector_text
from nightshift.k8s.toolset import KubernetesToolset
from tests.unit.k8s.fake_kube import FakeKubeApi

NOW = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)


def ts(minutes_ago: float) -> str:
    return (NOW - timedelta(minutes=minutes_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def obj(kind: str, name: str, ns: str = "shop", **extra: Any) -> dict[str, Any]:
    meta = {"name": name, "namespace": ns, "uid": f"uid-{kind}-{name}"}
    meta.update(extra.pop("metadata", {}))
    return {"kind": kind, "metadata": meta, **extra}


def managed(manager: str, minutes_ago: float, fields: dict[str, Any], op: str = "Update"):  # type: ignore[no-untyped-def]
    return {"manager": manager, "operation": op, "time": ts(minutes_ago), "fieldsV1": fields}


def tools(api: FakeKubeApi, namespaces: frozenset[str] = frozenset({"shop"})) -> KubernetesToolset:
    return KubernetesToolset(api, namespaces, clock=lambda: NOW)


async def call(t: KubernetesToolset, name: str, **params: Any):  # type: ignore[no-untyped-def]
    return await t.call(ToolCall(name, params))


# -- label selectors ------------------------------------------------------------------------


def test_selector_requires_every_label_and_expression() -> None:
    sel = {
        "matchLabels": {"app": "checkout"},
        "matchExpressions": [
            {"key": "tier", "operator": "In", "values": ["web", "api"]},
            {"key": "legacy", "operator": "DoesNotExist"},
            {"key": "track", "operator": "NotIn", "values": ["canary"]},
            {"key": "team", "operator": "Exists"},
        ],
    }
    assert matches(sel, {"app": "checkout", "tier": "api", "team": "pay"})
    assert not matches(sel, {"app": "checkout", "tier": "db", "team": "pay"})
    assert not matches(sel, {"app": "checkout", "tier": "api", "team": "pay", "legacy": "1"})
    assert not matches(sel, {"app": "checkout", "tier": "api", "team": "pay", "track": "canary"})
    assert not matches(sel, {"app": "checkout", "tier": "api"})
    assert selector_text(sel) == "app=checkout,tier in (api,web),!legacy,track notin (canary),team"


def test_empty_selector_selects_every_pod() -> None:
    assert matches({}, {"anything": "x"}) and matches(None, {})


def test_unknown_operator_is_an_error_not_a_silent_match() -> None:
    with pytest.raises(SelectorError, match="Matches"):
        matches({"matchExpressions": [{"key": "a", "operator": "Matches", "values": ["x"]}]}, {})


# -- firewall_rules -----------------------------------------------------------------------------


def _shop_with_policies() -> FakeKubeApi:
    api = FakeKubeApi()
    api.add(
        "deployments",
        obj(
            "Deployment",
            "checkout",
            spec={"template": {"metadata": {"labels": {"app": "checkout", "tier": "api"}}}},
        ),
    )
    api.add(
        "networkpolicies",
        obj(
            "NetworkPolicy",
            "lock-egress",
            metadata={"managedFields": [managed("kubectl-client-side-apply", 12, {"f:spec": {}})]},
            spec={"podSelector": {"matchLabels": {"app": "checkout"}}, "policyTypes": ["Egress"]},
        ),
    )
    api.add(
        "networkpolicies",
        obj(
            "NetworkPolicy",
            "allow-web",
            spec={
                "podSelector": {
                    "matchExpressions": [{"key": "tier", "operator": "In", "values": ["api"]}]
                },
                "ingress": [
                    {
                        "from": [
                            {"podSelector": {"matchLabels": {"app": "web"}}},
                            {
                                "namespaceSelector": {"matchLabels": {"team": "edge"}},
                                "podSelector": {},
                            },
                            {"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.9.0.0/16"]}},
                        ],
                        "ports": [
                            {"port": 8080},
                            {"protocol": "UDP", "port": 9000, "endPort": 9010},
                        ],
                    }
                ],
            },
        ),
    )
    api.add(
        "networkpolicies",
        obj("NetworkPolicy", "db-only", spec={"podSelector": {"matchLabels": {"app": "db"}}}),
    )
    return api


async def test_a_policy_with_egress_and_no_rules_is_reported_as_default_deny_for_the_workload() -> (
    None
):
    res = await call(tools(_shop_with_policies()), "firewall_rules", target="checkout")
    assert res.status is ToolStatus.OK, res.error
    text = res.text
    assert "Target: shop/Deployment/checkout labels app=checkout,tier=api" in text
    assert "NetworkPolicies selecting it: 2 of 3" in text
    assert "Egress: DENIED for all traffic (default deny: lock-egress" in text
    assert "Ingress: restricted to 1 rule(s) of allow-web" in text
    assert "DNS (UDP/53) is not allowed" not in text  # no egress rule at all: the deny says it
    assert "NetworkPolicy shop/db-only" not in text
    assert "Other policies in shop (not selecting it): db-only" in text
    assert res.data is not None and res.data["network_policies"] == [
        "shop/lock-egress",
        "shop/allow-web",
    ]


async def test_policy_peers_and_ports_are_rendered_in_plain_words() -> None:
    res = await call(
        tools(_shop_with_policies()), "firewall_rules", target="shop/deployment/checkout"
    )
    assert (
        "- from pods app=web in namespace shop; all pods in namespaces team=edge; "
        "ipBlock 10.0.0.0/8 except 10.9.0.0/16; ports: TCP/8080, UDP/9000-9010"
    ) in res.text
    assert "Egress: default deny (selects the pod, allows no egress)" in res.text
    assert "last changed: 2026-11-22T02:48:00Z by kubectl-client-side-apply" in res.text


async def test_egress_rules_without_dns_are_flagged() -> None:
    api = FakeKubeApi()
    api.add("pods", obj("Pod", "worker-1", metadata={"labels": {"app": "worker"}}))
    api.add(
        "networkpolicies",
        obj(
            "NetworkPolicy",
            "db-egress",
            spec={
                "podSelector": {},
                "policyTypes": ["Egress"],
                "egress": [
                    {
                        "to": [{"podSelector": {"matchLabels": {"app": "db"}}}],
                        "ports": [{"port": 5432}],
                    }
                ],
            },
        ),
    )
    res = await call(tools(api), "firewall_rules", target="worker-1")
    assert "podSelector: <all pods in the namespace>" in res.text
    assert "DNS (UDP/53) is not allowed by any egress rule" in res.text


async def test_a_target_no_policy_selects_is_no_data_saying_traffic_is_open() -> None:
    api = _shop_with_policies()
    api.add("pods", obj("Pod", "cache-0", metadata={"labels": {"app": "cache"}}))
    res = await call(tools(api), "firewall_rules", target="cache-0")
    assert res.status is ToolStatus.NO_DATA
    assert "No NetworkPolicy selects these pods" in res.text


async def test_a_service_target_uses_the_labels_of_its_pods() -> None:
    api = _shop_with_policies()
    api.add("services", obj("Service", "checkout-svc", spec={"selector": {"app": "checkout"}}))
    api.add(
        "pods", obj("Pod", "checkout-abc", metadata={"labels": {"app": "checkout", "tier": "api"}})
    )
    res = await call(tools(api), "firewall_rules", target="checkout-svc.shop.svc.cluster.local")
    assert "Target: shop/Service/checkout-svc" in res.text
    assert "(labels from pod checkout-abc)" in res.text


async def test_an_outside_host_name_is_no_data_not_a_namespace_it_may_not_read() -> None:
    res = await call(
        tools(_shop_with_policies()), "firewall_rules", target="relay-03.mail.corp:587"
    )
    assert res.status is ToolStatus.NO_DATA
    assert "no pod, workload or service named" in res.text


async def test_firewall_rules_outside_the_agents_namespaces_are_denied() -> None:
    res = await call(tools(_shop_with_policies()), "firewall_rules", target="billing/checkout")
    assert res.status is ToolStatus.DENIED
    assert "outside this agent's boundaries" in (res.error or "")


# -- recent_changes -------------------------------------------------------------------------------


def _rs(
    name: str, revision: int, minutes_ago: float, containers: list[Any], **ann: str
) -> dict[str, Any]:
    return obj(
        "ReplicaSet",
        name,
        metadata={
            "creationTimestamp": ts(minutes_ago),
            "ownerReferences": [{"uid": "uid-Deployment-checkout"}],
            "annotations": {"deployment.kubernetes.io/revision": str(revision), **ann},
        },
        spec={"template": {"spec": {"containers": containers}}},
    )


def _cluster_with_changes() -> FakeKubeApi:
    api = FakeKubeApi()
    api.add(
        "deployments",
        obj(
            "Deployment",
            "checkout",
            metadata={
                "creationTimestamp": ts(600),
                "managedFields": [
                    managed("argocd-controller", 30, {"f:spec": {"f:template": {}}}, "Apply"),
                    managed("kube-controller-manager", 29, {"f:status": {}})
                    | {"subresource": "status"},
                ],
            },
            status={"conditions": [{"type": "Progressing", "reason": "ProgressDeadlineExceeded"}]},
        ),
    )
    old = [
        {
            "name": "app",
            "image": "checkout:1.4",
            "env": [
                {"name": "POOL_SIZE", "value": "20"},
                {"name": "DB_PASSWORD", "value": "hunter2"},
            ],
        }
    ]
    new = [
        {
            "name": "app",
            "image": "checkout:1.5",
            "env": [
                {"name": "POOL_SIZE", "value": "5"},
                {"name": "DB_PASSWORD", "value": "swordfish"},
                {
                    "name": "FLAGS",
                    "valueFrom": {"configMapKeyRef": {"name": "flags", "key": "all"}},
                },
            ],
        }
    ]
    api.add("replicasets", _rs("checkout-1", 1, 600, old))
    api.add(
        "replicasets",
        _rs("checkout-2", 2, 30, new, **{"kubernetes.io/change-cause": "release 1.5 (PAY-77)"}),
    )
    api.add(
        "configmaps",
        obj(
            "ConfigMap",
            "checkout-config",
            metadata={
                "creationTimestamp": ts(5000),
                "managedFields": [
                    managed("kubectl-client-side-apply", 5000, {"f:data": {"f:POOL_SIZE": {}}}),
                    managed("kubectl-edit", 45, {"f:data": {"f:TIMEOUT": {}}}),
                ],
            },
        ),
    )
    api.add(
        "configmaps", obj("ConfigMap", "kube-root-ca.crt", metadata={"creationTimestamp": ts(10)})
    )
    api.add(
        "events",
        obj(
            "Event",
            "checkout-abc.1",
            type="Warning",
            reason="BackOff",
            message="Back-off restarting failed container app",
            count=7,
            lastTimestamp=ts(3),
            involvedObject={"kind": "Pod", "name": "checkout-abc", "namespace": "shop"},
        ),
    )
    return api


async def test_recent_changes_lists_rollouts_and_config_writes_newest_first() -> None:
    res = await call(tools(_cluster_with_changes()), "recent_changes", since_minutes=120)
    assert res.status is ToolStatus.OK, res.error
    header, *rows = res.text.split("\n\n")[0].splitlines()
    # The simulated world's columns, less ID: the cluster keeps no change records.
    assert header.split() == ["TIME", "AGE", "DOMAIN", "KIND", "TARGET", "ACTOR", "SUMMARY"]
    assert len(rows) == 2
    rollout, edit = rows
    assert "shop/Deployment/checkout" in rollout and "argocd-controller" in rollout
    assert (
        "revision 2 (current, ProgressDeadlineExceeded): image app: checkout:1.4 -> checkout:1.5"
        in rollout
    )
    assert "change-cause: release 1.5 (PAY-77)" in rollout
    assert "shop/ConfigMap/checkout-config" in edit and "kubectl-edit" in edit
    assert "fields it owns: data.TIMEOUT" in edit
    assert "kube-root-ca.crt" not in res.text
    assert "Warning events (symptoms, not changes)" in res.text
    assert "shop/Pod/checkout-abc   BackOff" in res.text


async def test_a_rollout_says_what_changed_without_revealing_secret_looking_values() -> None:
    res = await call(tools(_cluster_with_changes()), "recent_changes", since_minutes=120)
    assert "env app: POOL_SIZE 20 -> 5" in res.text
    assert "env app: DB_PASSWORD <value hidden> -> <value hidden>" in res.text
    assert "+FLAGS=<configmap flags key all>" in res.text
    assert "configmap refs: +flags" in res.text
    assert "hunter2" not in res.text and "swordfish" not in res.text


async def test_the_window_and_domain_filter_what_is_shown() -> None:
    t = tools(_cluster_with_changes())
    narrow = await call(t, "recent_changes", since_minutes=40)
    assert "checkout-config" not in narrow.text and "shop/Deployment/checkout" in narrow.text
    network = await call(t, "recent_changes", since_minutes=120, domain="network")
    assert network.status is ToolStatus.NO_DATA


async def test_the_offline_reasoner_reads_the_clusters_change_table() -> None:
    from nightshift.agent.reasoners.offline.changes import change_subject, parse_changes
    from nightshift.agent.reasoners.offline.findings import Analysis
    from nightshift.agent.reasoners.offline.topology import Topology
    from nightshift.domain.diagnosis import ResourceRef

    res = await call(tools(_cluster_with_changes()), "recent_changes", since_minutes=120)
    out = Analysis()
    parse_changes(res.text.split("Warning events")[0], out, Topology())
    faults = {(c.fault, c.target) for c in out.changes}
    assert ("bad-deployment-rollout", "checkout") in faults
    assert ("config-change-regression", "checkout-config") in faults
    # A diagnosis names the changed object itself (the cluster has no change records).
    subjects = {str(change_subject(c)) for c in out.changes}
    assert str(ResourceRef("ConfigMap", "checkout-config", "shop")) in subjects
    assert str(ResourceRef("Deployment", "checkout", "shop")) in subjects


async def test_unreadable_kinds_are_noted_and_the_rest_still_answers() -> None:
    api = _cluster_with_changes()
    api.errors["/apis/rbac.authorization.k8s.io/v1/namespaces/shop/roles"] = KubeError(
        403, "Forbidden", "no"
    )
    res = await call(tools(api), "recent_changes", since_minutes=120)
    assert res.status is ToolStatus.OK
    assert "(not readable here: roles (403 Forbidden))" in res.text


# -- security_events ------------------------------------------------------------------------------


def _event(
    name: str, reason: str, message: str, minutes_ago: float, kind: str = "Pod"
) -> dict[str, Any]:
    return obj(
        "Event",
        name,
        type="Warning",
        reason=reason,
        message=message,
        lastTimestamp=ts(minutes_ago),
        involvedObject={"kind": kind, "name": name.split(".")[0], "namespace": "shop"},
    )


async def test_security_events_keep_auth_cert_and_secret_mount_warnings_only() -> None:
    api = FakeKubeApi()
    api.add(
        "events",
        _event(
            "api-1.a",
            "FailedMount",
            'MountVolume.SetUp failed for volume "db": secret "db-creds" not found',
            5,
        ),
    )
    api.add(
        "events",
        _event(
            "job-1.b",
            "FailedCreate",
            'pods "x" is forbidden: User "system:serviceaccount:shop:ci" '
            'cannot create resource "pods"',
            10,
            "Job",
        ),
    )
    api.add(
        "events",
        _event(
            "web-1.c",
            "Unhealthy",
            "Readiness probe failed: Get https://10.0.0.5/: x509: certificate has expired",
            2,
        ),
    )
    api.add("events", _event("web-2.d", "BackOff", "Back-off restarting failed container", 1))
    res = await call(tools(api), "security_events")
    assert res.status is ToolStatus.OK
    header, *rows = res.text.splitlines()
    assert header.split()[:4] == ["TIME", "SOURCE", "TYPE", "PRINCIPAL"]
    assert [r.split()[2] for r in rows] == ["certificate", "secret-mount", "authorization"]
    assert "system:serviceaccount:shop:ci" in rows[2] and "denied" in rows[2]
    assert "web-2" not in res.text
    only = await call(tools(api), "security_events", target="db-creds")
    assert len(only.text.splitlines()) == 2


# -- node_diagnostics -----------------------------------------------------------------------------


def _nodes() -> FakeKubeApi:
    api = FakeKubeApi()
    conditions = [
        {"type": "MemoryPressure", "status": "False", "reason": "KubeletHasSufficientMemory"},
        {
            "type": "DiskPressure",
            "status": "True",
            "reason": "KubeletHasDiskPressure",
            "lastTransitionTime": ts(20),
        },
        {
            "type": "Ready",
            "status": "Unknown",
            "reason": "NodeStatusUnknown",
            "message": "Kubelet stopped posting node status.",
            "lastTransitionTime": ts(8),
            "lastHeartbeatTime": ts(9),
        },
    ]
    api.add(
        "nodes",
        obj(
            "Node",
            "node-a",
            ns="",
            spec={
                "unschedulable": True,
                "taints": [{"key": "node.kubernetes.io/unreachable", "effect": "NoExecute"}],
            },
            status={"conditions": conditions, "nodeInfo": {"kubeletVersion": "v1.36.3"}},
        ),
    )
    api.add(
        "nodes",
        obj("Node", "node-b", ns="", status={"conditions": [{"type": "Ready", "status": "True"}]}),
    )
    api.add(
        "pods", obj("Pod", "checkout-abc", spec={"nodeName": "node-a"}, status={"phase": "Pending"})
    )
    api.add(
        "pods",
        obj(
            "Pod",
            "kube-proxy-x1",
            ns="kube-system",
            spec={"nodeName": "node-a", "containers": [{"name": "p"}]},
            status={"phase": "Running"},
        ),
    )
    api.errors["/api/v1/nodes/node-a/proxy/healthz"] = KubeError(403, "Forbidden", "nodes/proxy")
    return api


async def test_node_diagnostics_reports_conditions_taints_cordon_and_unchecked_kubelet() -> None:
    res = await call(tools(_nodes()), "node_diagnostics", node="node-a")
    assert res.status is ToolStatus.OK, res.error
    text = res.text
    assert text.startswith("Node node-a: Unknown,SchedulingDisabled")
    rows = {line.split()[0]: line.split() for line in text.splitlines() if line.startswith("  ")}
    assert rows["DiskPressure"][1:3] == ["True", "KubeletHasDiskPressure"]
    assert rows["Ready"][1:5] == ["Unknown", "NodeStatusUnknown", "2026-11-22T02:52:00Z", "(8m"]
    assert "Kubelet stopped posting node status." in text
    assert "Taints: node.kubernetes.io/unreachable:NoExecute" in text
    assert "Cordoned: yes" in text
    assert (
        "Kubelet /healthz (API server node proxy): "
        "not checked: this identity may not get nodes/proxy (RBAC)" in text
    )
    assert (
        "kube-system components: not read (kube-system is outside this agent's namespaces)" in text
    )
    assert "Pods of this agent's namespaces on this node: 1 (Pending 1)" in text
    assert res.data == {"nodes": {"node-a": ["DiskPressure=True", "Ready=Unknown", "cordoned"]}}


async def test_node_diagnostics_without_a_node_summarises_all_and_details_the_unhealthy() -> None:
    api = _nodes()
    api.texts["/api/v1/nodes/node-a/proxy/healthz"] = "ok"
    del api.errors["/api/v1/nodes/node-a/proxy/healthz"]
    res = await call(tools(api, frozenset({"shop", "kube-system"})), "node_diagnostics")
    assert res.text.splitlines()[0].split() == ["NAME", "STATUS", "PROBLEMS", "TAINTS"]
    assert "node-b   Ready" in res.text
    assert "Node node-a:" in res.text and "Node node-b:" not in res.text
    assert "Kubelet /healthz (API server node proxy): ok" in res.text
    assert "kube-proxy-x1   0/1     Running" in res.text


async def test_no_tool_ever_reads_secrets() -> None:
    api = _cluster_with_changes()
    t = tools(api, frozenset({"*"}))
    for name, params in (
        ("recent_changes", {}),
        ("security_events", {}),
        ("firewall_rules", {"target": "shop/checkout"}),
    ):
        await call(t, name, **params)
    assert api.paths and not any("secrets" in p for p in api.paths)


async def test_a_busy_namespace_shows_the_newest_changes_and_counts_the_rest() -> None:
    api = FakeKubeApi()
    for i in range(70):
        minutes = 100 - i
        api.add(
            "configmaps",
            obj(
                "ConfigMap",
                f"cm-{i}",
                metadata={
                    "creationTimestamp": ts(minutes),
                    "managedFields": [managed("helm", minutes, {"f:data": {}})],
                },
            ),
        )
    res = await call(tools(api), "recent_changes", since_minutes=120)
    table_lines = res.text.split("\n\n")[0].splitlines()
    assert len(table_lines) == 1 + 60 + 1
    assert "cm-69" in table_lines[1] and "cm-10" in table_lines[60]
    assert table_lines[-1] == "... 10 older changes not shown (narrow since_minutes or domain)"
    assert res.data is not None and len(res.data["changes"]) == 60
    assert res.data["not_shown"] == 10
