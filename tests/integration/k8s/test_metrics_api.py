"""metrics.k8s.io against the real kube-apiserver: without metrics-server it is not
served, and kubectl top says so in kubectl's words (the prometheus source's
cAdvisor series then answer instead)."""

from __future__ import annotations

from nightshift.agent.tools.protocol import ToolStatus
from nightshift.k8s.client import KubeApi
from nightshift.sources.metrics_api import NOT_SERVED, served, top_nodes, top_pods


def test_a_cluster_without_metrics_server_does_not_serve_the_metrics_api(admin: KubeApi) -> None:
    assert served(admin) is False
    pods = top_pods(admin, frozenset({"*"}), "default")
    assert (pods.status, pods.text) == (ToolStatus.NO_DATA, NOT_SERVED)
    assert top_nodes(admin).text == NOT_SERVED
