"""Queues and investigations for the Kueue tests: a fresh ClusterQueue per test, and waits
on what Kueue reports through the executor."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from nightshift.domain.ids import new_ordered_id
from nightshift.domain.vocabulary import Tier
from nightshift.k8s.client import KubeApi, resource_path
from nightshift.k8s.names import job_name
from nightshift.runtime.executors.kubernetes import KubernetesExecutor
from nightshift.runtime.executors.kubernetes_kueue import Admission, QueueState, workload_for_job
from nightshift.runtime.executors.protocol import UnitLimits, WorkerLaunch
from tests.integration.k8s.conftest import AGENTS_NS
from tests.integration.k8s.waiting import eventually

KUEUE_API = "/apis/kueue.x-k8s.io/v1beta2"
Start = Callable[..., KubernetesExecutor]
PRIORITY = {
    Tier.SINGLE_DOMAIN: "nightshift-single-domain",
    Tier.MULTI_DOMAIN: "nightshift-multi-domain",
}
_queues = itertools.count()


def make_queue(
    admin: KubeApi, *, cpu: str = "8", memory: str = "16Gi", pods: int = 20, preempt: str = "Never"
) -> str:
    """A fresh ClusterQueue (the shipped flavor) and its LocalQueue in the agents' namespace."""
    name = f"test-q{next(_queues)}"
    quota = [
        {"name": "cpu", "nominalQuota": cpu},
        {"name": "memory", "nominalQuota": memory},
        {"name": "pods", "nominalQuota": pods},
    ]
    admin.create(
        f"{KUEUE_API}/clusterqueues",
        {
            "apiVersion": "kueue.x-k8s.io/v1beta2",
            "kind": "ClusterQueue",
            "metadata": {"name": name},
            "spec": {
                "namespaceSelector": {},
                "queueingStrategy": "BestEffortFIFO",
                "preemption": {"withinClusterQueue": preempt},
                "resourceGroups": [
                    {
                        "coveredResources": ["cpu", "memory", "pods"],
                        "flavors": [{"name": "nightshift-default", "resources": quota}],
                    }
                ],
            },
        },
    )
    admin.create(
        f"{KUEUE_API}/namespaces/{AGENTS_NS}/localqueues",
        {
            "apiVersion": "kueue.x-k8s.io/v1beta2",
            "kind": "LocalQueue",
            "metadata": {"name": name, "namespace": AGENTS_NS},
            "spec": {"clusterQueue": name},
        },
    )
    eventually(lambda: _queue_active(admin, name), 30)
    return name


def _queue_active(admin: KubeApi, name: str) -> bool:
    lq = admin.get(f"{KUEUE_API}/namespaces/{AGENTS_NS}/localqueues/{name}")
    conds = {c["type"]: c["status"] for c in lq.get("status", {}).get("conditions") or []}
    return conds.get("Active") == "True"


def launch(tier: Tier = Tier.SINGLE_DOMAIN) -> WorkerLaunch:
    return WorkerLaunch(
        investigation_id=new_ordered_id(),
        agent="watcher",
        trust_phase="shadow",
        tier=tier,
        api_url="http://nightshift.nightshift.svc:8080",
        token="tok",
        limits=UnitLimits(memory_mb=768, cpu_seconds=120, deadline_seconds=600),
        secrets_handoff="h",
        extra_env={"NIGHTSHIFT_TEST_OUTCOME": "hold"},  # the KWOK pod runs until deleted
    )


def wait_state(ex: KubernetesExecutor, inv: str, state: QueueState, reason: str = "") -> Admission:
    """Until Kueue puts ``inv`` in ``state`` (with ``reason`` in its message, if given)."""
    seen: list[Admission | None] = []

    def reached() -> bool:
        seen.append(ex.admission(inv))
        got = seen[-1]
        return got is not None and got.state is state and reason in got.reason.lower()

    try:
        eventually(reached, 60)
    except TimeoutError:
        raise AssertionError(f"{inv} never {state}; last: {seen[-1:]}") from None
    admission = seen[-1]
    assert admission is not None
    return admission


def job_path(inv: str) -> str:
    return resource_path("batch/v1", "jobs", AGENTS_NS, job_name(inv))


def suspended(admin: KubeApi, inv: str) -> bool:
    job = admin.get(job_path(inv))
    return bool(job["spec"]["suspend"])


def pods_of(admin: KubeApi, inv: str) -> list[dict[str, object]]:
    return list(
        admin.get(
            resource_path("v1", "pods", AGENTS_NS),
            {"labelSelector": f"batch.kubernetes.io/job-name={job_name(inv)}"},
        ).get("items", [])
    )


def workload_of(admin: KubeApi, inv: str) -> dict[str, Any]:
    """Kueue's Workload for the investigation's Job (found by the Job's uid)."""
    uid = str(admin.get(job_path(inv))["metadata"]["uid"])
    found = workload_for_job(admin, AGENTS_NS, uid)
    assert found is not None, f"no Workload for {inv}"
    return found
