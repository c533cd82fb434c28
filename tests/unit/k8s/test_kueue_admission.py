"""Reading Kueue's view of a Job from its Workload's conditions (the running Kueue is in
tests/integration/kueue; these pin the mapping on Workloads shaped like Kueue v0.17's)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from nightshift.k8s.client import KubeError
from nightshift.runtime.executors.kubernetes_kueue import QueueState, admission_of
from tests.unit.k8s.fake_kube import FakeKubeApi

NS = "nightshift-agents"


def workload(uid: str, *conditions: tuple[str, str, str, str], admitted_to: str = "") -> Any:
    status: dict[str, Any] = {
        "conditions": [
            {"type": t, "status": s, "reason": r, "message": m} for t, s, r, m in conditions
        ]
    }
    if admitted_to:
        status["admission"] = {"clusterQueue": admitted_to}
    return {
        "metadata": {
            "name": f"job-{uid}",
            "namespace": NS,
            "labels": {"kueue.x-k8s.io/job-uid": uid},
        },
        "spec": {"queueName": "lq", "priority": 100},
        "status": status,
    }


class Visibility:
    """Kueue's pendingworkloads answer for LocalQueue ``lq``, or an error."""

    def __init__(self, items: list[dict[str, Any]] | None = None, error: int = 0) -> None:
        self.items, self.error, self.paths = items or [], error, list[str]()

    def get(self, path: str, query: Mapping[str, Any] | None = None) -> dict[str, Any]:
        self.paths.append(path)
        if self.error:
            raise KubeError(self.error, "ServiceUnavailable", "visibility server down")
        return {"items": self.items}


PENDING = ("QuotaReserved", "False", "Pending", "couldn't assign flavors: insufficient quota")


@pytest.fixture
def api() -> FakeKubeApi:
    return FakeKubeApi()


def test_no_workload_means_kueue_has_not_picked_the_job_up(api: FakeKubeApi) -> None:
    got = admission_of(api, NS, "u1")  # type: ignore[arg-type]
    assert got.state is QueueState.NOT_QUEUED
    assert "waiting for Kueue" in got.reason


def test_a_pending_workload_is_waiting_with_kueue_s_reason_and_position(api: FakeKubeApi) -> None:
    api.add("workloads", workload("u1", PENDING))
    vis = Visibility(
        [{"metadata": {"name": "job-u1"}, "positionInLocalQueue": 2, "positionInClusterQueue": 5}]
    )
    got = admission_of(api, NS, "u1", visibility=vis)  # type: ignore[arg-type]
    assert got.state is QueueState.WAITING
    assert got.reason == "couldn't assign flavors: insufficient quota"
    assert (got.position_in_local_queue, got.position_in_cluster_queue) == (2, 5)
    assert (got.local_queue, got.priority) == ("lq", 100)
    assert vis.paths == [
        "/apis/visibility.kueue.x-k8s.io/v1beta2/namespaces/nightshift-agents"
        "/localqueues/lq/pendingworkloads"
    ]


def test_without_the_visibility_api_the_position_is_unknown_not_an_error(
    api: FakeKubeApi,
) -> None:
    api.add("workloads", workload("u1", PENDING))
    got = admission_of(api, NS, "u1", visibility=Visibility(error=503))  # type: ignore[arg-type]
    assert got.state is QueueState.WAITING
    assert got.position_in_local_queue is None


def test_admitted_carries_the_cluster_queue(api: FakeKubeApi) -> None:
    api.add(
        "workloads",
        workload(
            "u1",
            ("QuotaReserved", "True", "QuotaReserved", "Quota reserved in ClusterQueue cq"),
            ("Admitted", "True", "Admitted", "The workload is admitted"),
            admitted_to="cq",
        ),
    )
    got = admission_of(api, NS, "u1", visibility=Visibility())  # type: ignore[arg-type]
    assert (got.state, got.cluster_queue) == (QueueState.ADMITTED, "cq")


def test_a_preempted_workload_is_evicted_with_the_reason_and_back_in_the_queue(
    api: FakeKubeApi,
) -> None:
    evicted = ("Evicted", "True", "Preempted", "Preempted to accommodate a higher priority")
    api.add("workloads", workload("u1", evicted, PENDING))
    vis = Visibility([{"metadata": {"name": "job-u1"}, "positionInLocalQueue": 0}])
    got = admission_of(api, NS, "u1", visibility=vis)  # type: ignore[arg-type]
    assert got.state is QueueState.EVICTED
    assert got.reason == "Preempted: Preempted to accommodate a higher priority"
    assert got.position_in_local_queue == 0


def test_finished_wins_over_admitted(api: FakeKubeApi) -> None:
    api.add(
        "workloads",
        workload(
            "u1",
            ("Admitted", "True", "Admitted", ""),
            ("Finished", "True", "Succeeded", "Job finished successfully"),
        ),
    )
    assert admission_of(api, NS, "u1").state is QueueState.FINISHED  # type: ignore[arg-type]
