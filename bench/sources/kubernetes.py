"""The cluster's diagnostic tools against a real kube-apiserver (tests/integration/k8s/cluster.py:
etcd, kube-apiserver, the real controllers, KWOK nodes), read through the toolset the
``kubernetes`` source builds.

The namespace holds what a busy team's namespace holds: DEPLOYMENTS Deployments with
two revisions each (the Deployment controller made the ReplicaSets), as many ConfigMaps
written by two field managers, NetworkPolicies, Roles and Warning events; one KWOK node
is NotReady. ``measure()`` gives p50/p95 per tool and the API requests one call costs.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.sources.common import Row, row, timed
from nightshift.agent.tools.protocol import ToolCall, ToolStatus
from nightshift.k8s.client import MERGE_PATCH, KubeApi, resource_path
from nightshift.k8s.toolset import KubernetesToolset
from tests.integration.k8s.cluster import ControlPlaneError, running_control_plane

NS = "shop"
DEPLOYMENTS = 20
CONFIGMAPS = 50
POLICIES = 20
EVENTS = 200
SAMPLES = 40
CASES: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("kubectl_get", "pods in the namespace (baseline)", {"kind": "pods", "namespace": NS}),
    ("recent_changes", "last 60 min, whole namespace", {"since_minutes": 60}),
    ("firewall_rules", "a Deployment's policies", {"target": "svc-7"}),
    ("security_events", "last 60 min", {"since_minutes": 60}),
    ("node_diagnostics", "one NotReady node", {"node": "kwok-node-1"}),
    ("node_diagnostics", "every node", {}),
)


def _deployment(i: int, image: str) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": f"svc-{i}", "annotations": {"kubernetes.io/change-cause": image}},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": f"svc-{i}"}},
            "template": {
                "metadata": {"labels": {"app": f"svc-{i}"}},
                "spec": {"containers": [{"name": "app", "image": image}]},
            },
        },
    }


def populate(admin: KubeApi) -> None:
    admin.create(
        "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}}
    )
    for i in range(DEPLOYMENTS):
        path = resource_path("apps/v1", "deployments", NS, f"svc-{i}")
        admin.apply(path, _deployment(i, f"svc:{i}.0"), field_manager="ci-deployer")
    for i in range(CONFIGMAPS):
        path = resource_path("v1", "configmaps", NS, f"config-{i}")
        body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"config-{i}"}}
        admin.apply(path, {**body, "data": {"A": "1", "B": "2"}}, field_manager="ci-deployer")
        admin.request("PATCH", path, body={"data": {"B": "3"}}, content_type=MERGE_PATCH,
                      query={"fieldManager": "kubectl-edit"})  # fmt: skip
    for i in range(POLICIES):
        path = resource_path("networking.k8s.io/v1", "networkpolicies", NS, f"policy-{i}")
        spec = {
            "podSelector": {"matchLabels": {"app": f"svc-{i}"}},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "web"}}}]}],
        }
        body = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy"}
        admin.apply(path, {**body, "metadata": {"name": f"policy-{i}"}, "spec": spec},
                    field_manager="netops")  # fmt: skip
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    reasons = ("BackOff", "FailedMount", "Unhealthy", "FailedCreate")
    for i in range(EVENTS):
        reason = reasons[i % len(reasons)]
        message = 'secret "db" not found' if reason == "FailedMount" else f"{reason} #{i}"
        admin.create(resource_path("v1", "events", NS), {
            "apiVersion": "v1", "kind": "Event", "metadata": {"name": f"ev-{i}"},
            "involvedObject": {"kind": "Pod", "name": f"svc-{i % DEPLOYMENTS}-x", "namespace": NS},
            "reason": reason, "message": message, "type": "Warning", "count": 1,
            "firstTimestamp": now, "lastTimestamp": now, "source": {"component": "kubelet"},
        })  # fmt: skip
    for i in range(DEPLOYMENTS):  # the second revision of every Deployment
        path = resource_path("apps/v1", "deployments", NS, f"svc-{i}")
        admin.apply(path, _deployment(i, f"svc:{i}.1"), field_manager="ci-deployer")
    node = resource_path("v1", "nodes", None, "kwok-node-1")
    admin.merge_patch(node, {"metadata": {"annotations": {"kwok.x-k8s.io/node": None}}})
    condition = {"type": "Ready", "status": "False", "reason": "KubeletNotReady",
                 "lastHeartbeatTime": now, "lastTransitionTime": now}  # fmt: skip
    admin.request("PATCH", node + "/status", body={"status": {"conditions": [condition]}},
                  content_type="application/strategic-merge-patch+json")  # fmt: skip
    _wait_revisions(admin, 2 * DEPLOYMENTS)


def _wait_revisions(admin: KubeApi, count: int) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if len(admin.get(resource_path("apps/v1", "replicasets", NS))["items"]) >= count:
            return
        time.sleep(0.5)  # the controller works asynchronously; no watch for a count
    raise RuntimeError(f"fewer than {count} ReplicaSets after 120 s")


async def _measure(admin: KubeApi) -> list[Row]:
    tools = KubernetesToolset(admin, {NS})
    rows = []
    for tool, case, params in CASES:
        first = await tools.call(ToolCall(tool, params))
        if first.status is not ToolStatus.OK:
            raise RuntimeError(f"{tool} {params}: {first.status} {first.error or first.text}")
        before = admin.calls
        await tools.call(ToolCall(tool, params))
        requests = admin.calls - before
        millis = await timed(lambda t=tool, p=params: tools.call(ToolCall(t, p)), SAMPLES)
        note = f"{requests} API requests, {len(first.text)} chars"
        rows.append(row("kubernetes", tool, case, millis, note))
    return rows


def measure() -> list[Row]:
    with tempfile.TemporaryDirectory() as d:
        try:
            with running_control_plane(Path(d), nodes=2) as cp:
                admin = cp.admin()
                populate(admin)
                return asyncio.run(_measure(admin))
        except ControlPlaneError as exc:
            raise RuntimeError(f"kube-apiserver test control plane unavailable: {exc}") from exc


if __name__ == "__main__":
    for r in measure():
        print(r)
