"""kubectl top from metrics.k8s.io, against a fake API reader (the real cluster of
the integration suite serves no metrics API; tests/integration/k8s checks that)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nightshift.agent.tools.protocol import ToolStatus
from nightshift.k8s.client import KubeError
from nightshift.sources.metrics_api import NOT_SERVED, served, top_nodes, top_pods


class FakeApi:
    def __init__(self, objects: Mapping[str, Any] | None) -> None:
        self.objects = objects  # None: metrics.k8s.io is not served
        self.paths: list[str] = []

    def get(self, path: str, query: Mapping[str, Any] | None = None) -> Any:
        self.paths.append(path)
        if self.objects is None and path.startswith("/apis/metrics.k8s.io"):
            raise KubeError(404, "NotFound", "the server could not find the requested resource")
        return (self.objects or {}).get(path, {"items": []})


def _pod(ns: str, name: str, *usage: tuple[str, str]) -> dict[str, Any]:
    return {
        "metadata": {"namespace": ns, "name": name},
        "containers": [{"name": f"c{i}", "usage": {"cpu": c, "memory": m}}
                       for i, (c, m) in enumerate(usage)],
    }  # fmt: skip


METRICS = {
    "/apis/metrics.k8s.io/v1beta1": {"kind": "APIResourceList"},
    "/apis/metrics.k8s.io/v1beta1/namespaces/shop/pods": {
        "items": [
            _pod("shop", "checkout-1", ("250000000n", "131072Ki"), ("5m", "64Mi")),
            _pod("shop", "cart-1", ("1", "1Gi")),
        ]
    },
    "/apis/metrics.k8s.io/v1beta1/nodes": {
        "items": [{"metadata": {"name": "node-1"}, "usage": {"cpu": "1500m", "memory": "4Gi"}}]
    },
    "/api/v1/nodes": {
        "items": [
            {"metadata": {"name": "node-1"},
             "status": {"allocatable": {"cpu": "4", "memory": "16Gi"}}},
            {"metadata": {"name": "node-2"},
             "status": {"allocatable": {"cpu": "4", "memory": "16Gi"}}},
        ]
    },
}  # fmt: skip


def test_top_pods_sums_containers_in_kubectls_format() -> None:
    result = top_pods(FakeApi(METRICS), frozenset({"*"}), "shop")
    assert [line.split() for line in result.text.splitlines()] == [
        ["NAME", "CPU(cores)", "MEMORY(bytes)"],
        ["cart-1", "1000m", "1024Mi"],
        ["checkout-1", "255m", "192Mi"],
    ]


def test_top_nodes_prints_percent_of_allocatable_and_unknown_for_silent_nodes() -> None:
    result = top_nodes(FakeApi(METRICS))
    assert [line.split() for line in result.text.splitlines()] == [
        ["NAME", "CPU(cores)", "CPU%", "MEMORY(bytes)", "MEMORY%"],
        ["node-1", "1500m", "37%", "4096Mi", "25%"],
        ["node-2", "<unknown>", "<unknown>", "<unknown>", "<unknown>"],
    ]


def test_a_cluster_without_metrics_server_says_so_as_kubectl_does() -> None:
    api = FakeApi(None)
    assert served(api) is False
    result = top_pods(api, frozenset({"*"}), "shop")
    assert result.status is ToolStatus.NO_DATA and result.text == NOT_SERVED


def test_a_bounded_agent_reads_only_its_namespaces() -> None:
    api = FakeApi(METRICS)
    top_pods(api, frozenset({"shop", "billing"}), None)
    assert api.paths[1:] == [
        "/apis/metrics.k8s.io/v1beta1/namespaces/billing/pods",
        "/apis/metrics.k8s.io/v1beta1/namespaces/shop/pods",
    ]
    denied = top_pods(api, frozenset({"shop"}), "kube-system")
    assert denied.status is ToolStatus.DENIED


def test_a_namespace_that_is_not_a_name_never_reaches_a_path() -> None:
    api = FakeApi(METRICS)
    result = top_pods(api, frozenset({"*"}), "../../api/v1/secrets")
    assert result.status is ToolStatus.ERROR and api.paths == []
