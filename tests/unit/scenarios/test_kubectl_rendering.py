"""The simulated world prints what kubectl prints: headers, columns, sections, errors."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from nightshift.agent.tools.protocol import ToolCall, ToolResult, ToolStatus
from nightshift.k8s.kubectl_time import human_duration
from nightshift.scenarios import SimulatedWorld
from nightshift.scenarios.clock import parse_duration


def ask(world: SimulatedWorld, tool: str, **params: Any) -> ToolResult:
    return world.call_sync(ToolCall(tool, params))


def _header(text: str) -> list[str]:
    return re.split(r"\s{2,}", text.splitlines()[0].strip())


def test_get_pods_has_kubectls_columns_and_crashloop_row(ledger: SimulatedWorld) -> None:
    result = ask(ledger, "kubectl_get", kind="pods", namespace="finance")
    assert result.status is ToolStatus.OK
    assert _header(result.text) == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    row = next(line for line in result.text.splitlines() if "9xwq2" in line)
    assert re.split(r"\s{2,}", row) == [
        "ledger-worker-6b7c9d4f8d-9xwq2",
        "0/1",
        "CrashLoopBackOff",
        "9 (3m ago)",
        "51m",
    ]


def test_get_pods_wide_adds_ip_and_node(ledger: SimulatedWorld) -> None:
    result = ask(ledger, "kubectl_get", kind="po", namespace="finance", output="wide")
    assert _header(result.text)[5:] == ["IP", "NODE", "NOMINATED NODE", "READINESS GATES"]
    assert "ip-10-0-27-130.eu-west-1.compute.internal" in result.text


def test_all_namespaces_puts_namespace_first(ledger: SimulatedWorld) -> None:
    result = ask(ledger, "kubectl_get", kind="deployments")
    assert _header(result.text) == ["NAMESPACE", "NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    assert re.search(r"^finance\s+ledger-worker\s+1/3\s+3\s+1\s+200d$", result.text, re.M)


def test_labels_output_and_selector(ledger: SimulatedWorld) -> None:
    result = ask(
        ledger,
        "kubectl_get",
        kind="pods",
        namespace="finance",
        label_selector="app=ledger-worker",
        output="labels",
    )
    assert _header(result.text)[-1] == "LABELS"
    assert "pod-template-hash=6b7c9d4f8d" in result.text
    assert "ledger-api" not in result.text


def test_describe_pod_shows_last_state_oomkilled(ledger: SimulatedWorld) -> None:
    text = ask(
        ledger,
        "kubectl_describe",
        kind="pod",
        name="ledger-worker-6b7c9d4f8d-9xwq2",
        namespace="finance",
    ).text
    for section in ("Name:", "Containers:", "Conditions:", "Volumes:", "QoS Class:", "Events:"):
        assert re.search(rf"^{section}", text, re.M), section
    assert re.search(r"State:\s+Waiting\n\s+Reason:\s+CrashLoopBackOff", text)
    assert re.search(r"Last State:\s+Terminated\n\s+Reason:\s+OOMKilled\n\s+Exit Code:\s+137", text)
    assert re.search(r"Restart Count:\s+9", text)
    assert re.search(r"memory:\s+768Mi", text)
    assert "Controlled By:    ReplicaSet/ledger-worker-6b7c9d4f8d" in text


def test_describe_events_use_count_over_age(ledger: SimulatedWorld) -> None:
    text = ask(
        ledger,
        "kubectl_describe",
        kind="pod",
        name="ledger-worker-6b7c9d4f8d-9xwq2",
        namespace="finance",
    ).text
    assert re.search(r"Type\s+Reason\s+Age\s+From\s+Message", text)
    assert re.search(
        r"Warning\s+BackOff\s+40s \(x61 over 44m\)\s+kubelet\s+Back-off restarting", text
    )


def test_describe_deployment_sections(ledger: SimulatedWorld) -> None:
    text = ask(
        ledger, "kubectl_describe", kind="deployment", name="ledger-worker", namespace="finance"
    ).text
    assert (
        "Replicas:               3 desired | 3 updated | 3 total | 1 available | 2 unavailable"
        in text
    )
    assert re.search(r"Available\s+False\s+MinimumReplicasUnavailable", text)
    assert "NewReplicaSet:   ledger-worker-6b7c9d4f8d (3/3 replicas created)" in text


def test_describe_falls_back_to_name_prefix(ledger: SimulatedWorld) -> None:
    text = ask(
        ledger, "kubectl_describe", kind="pods", name="ledger-worker", namespace="finance"
    ).text
    assert text.count("\nName:") + text.startswith("Name:") == 3


def test_events_table_columns_and_object(ledger: SimulatedWorld) -> None:
    result = ask(ledger, "kubectl_events", namespace="finance")
    assert _header(result.text) == ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    assert "pod/ledger-worker-6b7c9d4f8d-tq8bn" in result.text
    assert "20s (x66 over 45m)" in result.text


def test_logs_previous_and_tail(ledger: SimulatedWorld) -> None:
    result = ask(
        ledger,
        "kubectl_logs",
        pod="ledger-worker-6b7c9d4f8d-k2mzt",
        namespace="finance",
        previous=True,
        tail=1,
    )
    assert result.text.endswith("slow commit: 38.2s for 15000 legs")
    assert len(result.text.splitlines()) == 1


def test_logs_timestamps_follow_the_scenario_clock(ledger: SimulatedWorld) -> None:
    text = ask(
        ledger, "kubectl_logs", pod="ledger-worker-6b7c9d4f8d-k2mzt", namespace="finance"
    ).text
    assert text.startswith("2026-03-14T02:05:00Z INFO")


def test_previous_logs_of_a_never_restarted_container_is_kubectls_error() -> None:
    world = SimulatedWorld("search-rollout-stuck")
    result = ask(
        world, "kubectl_logs", pod="indexer-6c9f8d7b5f-2lq8d", namespace="search", previous=True
    )
    assert result.status is ToolStatus.ERROR
    assert result.text == (
        'Error from server (BadRequest): previous terminated container "indexer" in pod '
        '"indexer-6c9f8d7b5f-2lq8d" not found'
    )


def test_logs_of_a_pod_waiting_on_its_image() -> None:
    world = SimulatedWorld("search-rollout-stuck")
    result = ask(world, "kubectl_logs", pod="indexer-5f4b7c9d8c-8gx7k", namespace="search")
    assert result.status is ToolStatus.ERROR
    assert "is waiting to start: trying and failing to pull image" in result.text


def test_unknown_object_is_kubectls_not_found(ledger: SimulatedWorld) -> None:
    result = ask(ledger, "kubectl_get", kind="deployment", name="nope", namespace="finance")
    assert result.status is ToolStatus.ERROR
    assert result.text == 'Error from server (NotFound): deployments.apps "nope" not found'


def test_unknown_kind_is_kubectls_error(ledger: SimulatedWorld) -> None:
    result = ask(ledger, "kubectl_get", kind="widgets")
    assert result.status is ToolStatus.ERROR
    assert result.text == 'error: the server doesn\'t have a resource type "widgets"'


def test_empty_namespace_says_no_resources(ledger: SimulatedWorld) -> None:
    result = ask(ledger, "kubectl_get", kind="pods", namespace="nowhere")
    assert result.status is ToolStatus.NO_DATA
    assert result.text == "No resources found in nowhere namespace."


def test_yaml_output_is_the_api_object(ledger: SimulatedWorld) -> None:
    text = ask(
        ledger,
        "kubectl_get",
        kind="pod",
        name="ledger-worker-6b7c9d4f8d-9xwq2",
        namespace="finance",
        output="yaml",
    ).text
    pod = yaml.safe_load(text)
    assert pod["kind"] == "Pod" and pod["apiVersion"] == "v1"
    status = pod["status"]["containerStatuses"][0]
    assert status["lastState"]["terminated"]["reason"] == "OOMKilled"
    assert status["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    assert pod["spec"]["containers"][0]["resources"]["limits"]["memory"] == "768Mi"


def test_service_without_endpoints_shows_none() -> None:
    world = SimulatedWorld("storefront-504s")
    text = ask(world, "kubectl_get", kind="endpoints", namespace="retail").text
    assert _header(text) == ["NAME", "ENDPOINTS", "AGE"]
    assert re.search(r"^inventory\s+<none>\s+280d$", text, re.M)


def test_services_columns(cascade: SimulatedWorld) -> None:
    text = ask(cascade, "kubectl_get", kind="svc", namespace="shop", output="wide").text
    assert _header(text) == [
        "NAME",
        "TYPE",
        "CLUSTER-IP",
        "EXTERNAL-IP",
        "PORT(S)",
        "AGE",
        "SELECTOR",
    ]


def test_nodes_show_not_ready_and_pending_pods_reason() -> None:
    world = SimulatedWorld("sessions-partially-lost")
    nodes = ask(world, "kubectl_get", kind="nodes").text
    assert re.search(r"^ip-10-0-38-7\.eu-west-1\.compute\.internal\s+NotReady\s", nodes, re.M)
    described = ask(
        world, "kubectl_describe", kind="node", name="ip-10-0-38-7.eu-west-1.compute.internal"
    ).text
    assert "node.kubernetes.io/unreachable:NoExecute" in described
    assert re.search(r"Ready\s+Unknown\s+.*NodeStatusUnknown\s+Kubelet stopped posting", described)
    pods = ask(world, "kubectl_get", kind="pods", namespace="web").text
    # The node controller only flips the pod's Ready condition; containerStatuses keep what the
    # lost kubelet last reported, so kubectl still counts the container ready.
    assert re.search(r"^sessions-redis-1\s+1/1\s+Terminating\s", pods, re.M)


def test_failed_scheduling_pod_is_pending_without_node() -> None:
    world = SimulatedWorld("month-end-reports-pending")
    text = ask(world, "kubectl_get", kind="pods", namespace="analytics", output="wide").text
    assert re.search(
        r"report-builder-65f7d9c8b4-4hcvn\s+0/1\s+Pending\s+0\s+33m\s+<none>\s+<none>", text
    )


def test_rollout_history_lists_revisions(ledger: SimulatedWorld) -> None:
    text = ask(ledger, "kubectl_rollout_history", name="ledger-worker", namespace="finance").text
    assert text.splitlines()[0] == "deployment.apps/ledger-worker "
    assert _header("\n".join(text.splitlines()[1:])) == ["REVISION", "CHANGE-CAUSE"]
    assert "worker.batchSize=5000" in text


def test_top_pods_and_nodes(ledger: SimulatedWorld) -> None:
    pods = ask(ledger, "kubectl_top", kind="pods", namespace="finance").text
    assert _header(pods) == ["NAME", "CPU(cores)", "MEMORY(bytes)"]
    assert re.search(r"ledger-worker-6b7c9d4f8d-k2mzt\s+690m\s+701Mi", pods)
    nodes = ask(ledger, "kubectl_top", kind="nodes").text
    assert _header(nodes) == ["NAME", "CPU(cores)", "CPU%", "MEMORY(bytes)", "MEMORY%"]


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (45, "45s"),
        (119, "119s"),
        (150, "2m30s"),
        (600, "10m"),
        (7200, "120m"),
        (3 * 3600, "3h"),
        (3 * 3600 + 600, "3h10m"),
        (9 * 3600, "9h"),
        (50 * 3600, "2d2h"),
        (9 * 86400, "9d"),
        (400 * 86400, "400d"),
        (800 * 86400, "2y70d"),
    ],
)
def test_age_column_follows_kubectls_human_duration(seconds: int, expected: str) -> None:
    assert human_duration(seconds) == expected


def test_durations_in_files() -> None:
    assert parse_duration("1h30m") == 5400
    assert parse_duration("2d") == 172800
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration("soon")


def test_get_all_prints_one_table_per_kind_with_type_prefixes() -> None:
    world = SimulatedWorld("notifications-crashloop")
    text = ask(world, "kubectl_get", kind="all", namespace="messaging").text
    blocks = text.split("\n\n")
    assert [b.split()[1] for b in blocks][:2] == ["READY", "TYPE"]
    assert "pod/notifier-58c7b9f6d4-4tkvz" in text
    assert "deployment.apps/notifier" in text and "replicaset.apps/notifier-58c7b9f6d4" in text
    assert "service/notifier" in text and "statefulset.apps/redis-queue" in text
