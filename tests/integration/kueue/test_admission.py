"""Investigation Jobs under a running Kueue v0.17.0: quota, queue position, priority,
preemption and cancel, with the Kubernetes executor as the control plane uses it."""

from __future__ import annotations

import pytest

from nightshift.domain.vocabulary import InvestigationStatus, Tier
from nightshift.k8s.client import KubeApi, resource_path
from nightshift.runtime.executors.kubernetes import KubernetesExecutor
from nightshift.runtime.executors.kubernetes_kueue import QueueState
from tests.integration.k8s.conftest import AGENTS_NS, Exits
from tests.integration.k8s.waiting import eventually, wait_gone
from tests.integration.kueue.queues import (
    KUEUE_API,
    Start,
    launch,
    make_queue,
    pods_of,
    suspended,
    wait_state,
)

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(("cpu", "memory"), [("500m", "16Gi"), ("8", "1Gi")], ids=["cpu", "memory"])
def test_a_cluster_queue_admits_only_what_fits_and_the_rest_waits_suspended(
    admin: KubeApi, executor_for: Start, cpu: str, memory: str
) -> None:
    # Each single-domain worker requests 250m CPU and 512Mi: two fit either quota.
    ex = executor_for(make_queue(admin, cpu=cpu, memory=memory))
    runs = [launch() for _ in range(3)]
    for run in runs:
        ex.start(run)
    first, second, third = (r.investigation_id for r in runs)
    for inv in (first, second):
        admitted = wait_state(ex, inv, QueueState.ADMITTED)
        assert admitted.cluster_queue.startswith("test-q")
        eventually(lambda i=inv: not suspended(admin, i), 30)
    # Kueue's verdict, in its words: the flavor has too little of the resource left.
    waiting = wait_state(ex, third, QueueState.WAITING, "insufficient unused quota")
    assert ("cpu" if cpu == "500m" else "memory") in waiting.reason
    assert waiting.position_in_local_queue == 0
    assert waiting.priority == 100  # nightshift-single-domain
    assert suspended(admin, third)
    assert pods_of(admin, third) == []
    # Capacity frees when an investigation ends: the waiting one is admitted next.
    ex.stop(first, "operator cancelled")
    wait_state(ex, third, QueueState.ADMITTED)
    eventually(lambda: not suspended(admin, third), 30)


def test_priority_classes_by_tier_order_admission_and_the_queue_shows_positions(
    admin: KubeApi, executor_for: Start
) -> None:
    ex = executor_for(make_queue(admin, pods=1))
    holder = launch()
    ex.start(holder)
    wait_state(ex, holder.investigation_id, QueueState.ADMITTED)
    single, multi = launch(Tier.SINGLE_DOMAIN), launch(Tier.MULTI_DOMAIN)
    ex.start(single)  # submitted first ...
    ex.start(multi)  # ... but the multi-domain incident has the higher priority class
    s = wait_state(ex, single.investigation_id, QueueState.WAITING)
    m = wait_state(ex, multi.investigation_id, QueueState.WAITING)
    eventually(lambda: _positions(ex, single.investigation_id, multi.investigation_id) == (1, 0))
    assert (m.priority, s.priority) == (200, 100)
    ex.stop(holder.investigation_id, "done")
    wait_state(ex, multi.investigation_id, QueueState.ADMITTED)
    still = wait_state(ex, single.investigation_id, QueueState.WAITING)
    assert still.position_in_local_queue == 0
    assert suspended(admin, single.investigation_id)


def _positions(ex: KubernetesExecutor, *invs: str) -> tuple[int | None, ...]:
    return tuple(a.position_in_local_queue if (a := ex.admission(i)) else None for i in invs)


def test_a_high_priority_investigation_preempts_a_low_one_which_is_requeued_not_lost(
    admin: KubeApi, executor_for: Start, exits: Exits
) -> None:
    ex = executor_for(make_queue(admin, pods=1, preempt="LowerPriority"))
    low, high = launch(Tier.SINGLE_DOMAIN), launch(Tier.MULTI_DOMAIN)
    ex.start(low)
    wait_state(ex, low.investigation_id, QueueState.ADMITTED)
    eventually(lambda: len(pods_of(admin, low.investigation_id)) == 1, 30)
    ex.start(high)
    wait_state(ex, high.investigation_id, QueueState.ADMITTED)
    evicted = wait_state(ex, low.investigation_id, QueueState.EVICTED)
    assert evicted.reason.startswith("Preempted"), evicted.reason
    # Back in the queue, suspended, its pod gone, and not reported as ended.
    eventually(lambda: suspended(admin, low.investigation_id), 30)
    eventually(lambda: pods_of(admin, low.investigation_id) == [], 30)
    assert ex.tracks(low.investigation_id)
    assert low.investigation_id not in exits.seen
    ex.stop(high.investigation_id, "done")
    wait_state(ex, low.investigation_id, QueueState.ADMITTED)
    eventually(lambda: not suspended(admin, low.investigation_id), 30)


def test_cancel_deletes_the_job_and_kueue_s_workload_with_it(
    admin: KubeApi, executor_for: Start, exits: Exits
) -> None:
    ex = executor_for(make_queue(admin, pods=1))
    running, waiting = launch(), launch()
    for run in (running, waiting):
        ex.start(run)
    wait_state(ex, running.investigation_id, QueueState.ADMITTED)
    queued = wait_state(ex, waiting.investigation_id, QueueState.WAITING)
    admitted = ex.admission(running.investigation_id)
    assert admitted is not None
    for run in (running, waiting):
        ex.stop(run.investigation_id, "cancelled by alice")
    workloads = f"{KUEUE_API}/namespaces/{AGENTS_NS}/workloads"
    wait_gone(admin, workloads, admitted.workload)
    wait_gone(admin, workloads, queued.workload)
    for run in (running, waiting):
        assert exits.wait_for(run.investigation_id).status is InvestigationStatus.CANCELLED
        assert ex.admission(run.investigation_id) is None


def test_kueue_s_own_webhooks_serve_the_api_server(admin: KubeApi) -> None:
    # Conversion: the shipped v1beta2 ClusterQueue read back as v1beta1 (cohortName -> cohort).
    old = admin.get("/apis/kueue.x-k8s.io/v1beta1/clusterqueues/nightshift-investigations")
    assert old["spec"]["cohort"] == "nightshift"
    # Admission: a queued Job created running is suspended by Kueue's Job webhook.
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": "plain-queued-job",
            "labels": {"kueue.x-k8s.io/queue-name": "nightshift-investigations"},
        },
        "spec": {
            "suspend": False,
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [
                        {"name": "c", "image": "x", "resources": {"requests": {"cpu": "1"}}}
                    ],
                }
            },
        },
    }
    created = admin.create(resource_path("batch/v1", "jobs", AGENTS_NS), job)
    assert created["spec"]["suspend"] is True
    admin.delete(resource_path("batch/v1", "jobs", AGENTS_NS, created["metadata"]["name"]))
