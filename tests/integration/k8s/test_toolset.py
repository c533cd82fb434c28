"""The agent's Kubernetes toolset reads a real cluster as the phase ServiceAccount."""

from __future__ import annotations

import re

import pytest

from nightshift.agent.tools.protocol import ToolCall, ToolStatus
from nightshift.k8s.client import KubeApi, resource_path
from nightshift.k8s.names import service_account_name
from nightshift.k8s.toolset import KubernetesToolset
from tests.integration.k8s.conftest import AGENTS_NS, APP_NS, SHADOW
from tests.integration.k8s.waiting import wait_until

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def shop(governed: KubeApi) -> KubeApi:
    """A Deployment and Service in the app namespace, run by the real controllers on KWOK."""
    deployments = resource_path("apps/v1", "deployments", APP_NS)
    governed.apply(
        deployments + "/checkout",
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {
                "name": "checkout",
                "namespace": APP_NS,
                "annotations": {"kubernetes.io/change-cause": "deploy 1.0"},
            },
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": {"app": "checkout"}},
                "template": {
                    "metadata": {"labels": {"app": "checkout"}},
                    "spec": {"containers": [{"name": "app", "image": "checkout:1.0"}]},
                },
            },
        },
        field_manager="test",
    )
    governed.apply(
        resource_path("v1", "services", APP_NS, "checkout"),
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "checkout", "namespace": APP_NS},
            "spec": {"selector": {"app": "checkout"}, "ports": [{"port": 80, "targetPort": 8080}]},
        },
        field_manager="test",
    )
    wait_until(
        governed, deployments, "checkout", lambda d: d.get("status", {}).get("readyReplicas") == 2
    )
    return governed


@pytest.fixture
def tools(shop: KubeApi) -> KubernetesToolset:
    sa = service_account_name(SHADOW.name, SHADOW.phase.value)
    return KubernetesToolset(shop.impersonate_service_account(AGENTS_NS, sa), {APP_NS})


async def test_get_pods_wide_prints_kubectls_columns(tools: KubernetesToolset) -> None:
    res = await tools.call(
        ToolCall(
            "kubectl_get",
            {
                "kind": "pods",
                "namespace": APP_NS,
                "label_selector": "app=checkout",
                "output": "wide",
            },
        )
    )
    assert res.status is ToolStatus.OK, res.error
    header, *rows = res.text.splitlines()
    assert header.split()[:5] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert "NODE" in header
    assert len(rows) == 2
    assert all("1/1" in r and "Running" in r and "kwok-node-" in r for r in rows)


async def test_get_with_labels_and_yaml(tools: KubernetesToolset) -> None:
    labels = await tools.call(
        ToolCall("kubectl_get", {"kind": "deploy", "namespace": APP_NS, "output": "labels"})
    )
    assert "LABELS" in labels.text.splitlines()[0]
    yaml_out = await tools.call(
        ToolCall(
            "kubectl_get",
            {"kind": "deployment", "name": "checkout", "namespace": APP_NS, "output": "yaml"},
        )
    )
    assert "kind: Deployment" in yaml_out.text
    assert "managedFields" not in yaml_out.text


async def test_describe_pod_and_node_conditions(tools: KubernetesToolset, shop: KubeApi) -> None:
    pods = shop.get(resource_path("v1", "pods", APP_NS), {"labelSelector": "app=checkout"})
    pod = pods["items"][0]["metadata"]["name"]
    described = await tools.call(
        ToolCall("kubectl_describe", {"kind": "pod", "name": pod, "namespace": APP_NS})
    )
    assert described.status is ToolStatus.OK, described.error
    # kubectl aligns describe values in a column; the width follows the longest label.
    assert re.search(rf"^Name:\s+{re.escape(pod)}$", described.text, re.M), described.text
    assert re.search(r"^\s+Restart Count:\s+0$", described.text, re.M), described.text
    node = await tools.call(ToolCall("kubectl_describe", {"kind": "node", "name": "kwok-node-0"}))
    assert "Conditions:" in node.text and "Ready" in node.text
    nodes = await tools.call(ToolCall("kubectl_get", {"kind": "nodes", "output": "wide"}))
    assert "INTERNAL-IP" in nodes.text and "kwok-node-1" in nodes.text


async def test_service_endpoints_events_and_rollout_history(tools: KubernetesToolset) -> None:
    svc = await tools.call(
        ToolCall("kubectl_describe", {"kind": "svc", "name": "checkout", "namespace": APP_NS})
    )
    assert "Endpoints:" in svc.text
    events = await tools.call(
        ToolCall("kubectl_events", {"namespace": APP_NS, "kind": "deployment", "name": "checkout"})
    )
    assert events.status is ToolStatus.OK
    assert "ScalingReplicaSet" in events.text
    history = await tools.call(
        ToolCall("kubectl_rollout_history", {"name": "checkout", "namespace": APP_NS})
    )
    assert history.text.splitlines()[0] == "deployment.apps/checkout"
    assert "REVISION" in history.text and "1" in history.text.splitlines()[-1]


async def test_reads_outside_the_boundary_and_secrets_are_denied(tools: KubernetesToolset) -> None:
    other = await tools.call(ToolCall("kubectl_get", {"kind": "pods", "namespace": "kube-system"}))
    assert other.status is ToolStatus.DENIED
    secrets = await tools.call(ToolCall("kubectl_get", {"kind": "secrets", "namespace": APP_NS}))
    assert secrets.status is ToolStatus.DENIED
    unknown = await tools.call(ToolCall("prometheus_query", {"query": "up"}))
    assert unknown.status is ToolStatus.NO_DATA


async def test_logs_and_previous_logs_come_through_the_api(
    tools: KubernetesToolset, shop: KubeApi
) -> None:
    pods = shop.get(resource_path("v1", "pods", APP_NS), {"labelSelector": "app=checkout"})
    pod = pods["items"][0]["metadata"]["name"]
    current = await tools.call(ToolCall("kubectl_logs", {"pod": pod, "namespace": APP_NS}))
    assert current.status is ToolStatus.OK, current.error
    assert "ERROR connection pool exhausted" in current.text
    previous = await tools.call(
        ToolCall("kubectl_logs", {"pod": pod, "namespace": APP_NS, "previous": True, "tail": 5})
    )
    assert previous.text.strip() == "panic: out of memory"
