"""After a crash mid-execution, the Kubernetes remediator tells from the target's
state whether the action took effect (real kube-apiserver)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from nightshift.domain.diagnosis import ResourceRef
from nightshift.k8s.client import KubeApi, resource_path
from nightshift.services.remediation_port import RemediationJob
from tests.integration.k8s.conftest import APP_NS, LIMITED, make_pod
from tests.integration.k8s.test_governance import remediator
from tests.integration.k8s.waiting import wait_gone

pytestmark = pytest.mark.slow


def test_a_scale_is_in_effect_only_once_the_replicas_match(governed: KubeApi) -> None:
    governed.create(
        resource_path("apps/v1", "deployments", APP_NS),
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "ledger"},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": {"app": "ledger"}},
                "template": {
                    "metadata": {"labels": {"app": "ledger"}},
                    "spec": {"containers": [{"name": "app", "image": "ledger:1"}]},
                },
            },
        },
    )
    fix = remediator(governed)
    job = RemediationJob(
        "inv-o1",
        "scale-deployment",
        ResourceRef("deployment", "ledger", APP_NS),
        {"agent": LIMITED.name, "replicas": 4},
    )
    before = fix.observe(job)
    assert before.effect == "not_in_effect"
    assert "spec.replicas=1 (asked 4)" in before.detail
    assert fix.execute(job).ok
    after = fix.observe(job)
    assert after.effect == "in_effect", after.detail


def test_a_pod_restart_is_in_effect_once_the_pod_is_gone_or_newer_than_the_claim(
    governed: KubeApi,
) -> None:
    make_pod(governed, "till-1")
    fix = remediator(governed)
    job = RemediationJob(
        "inv-o2",
        "restart-pod",
        ResourceRef("pod", "till-1", APP_NS),
        {"agent": LIMITED.name},
        claimed_at=datetime.now(UTC) + timedelta(seconds=2),  # claimed after the pod was made
    )
    kept = fix.observe(job)
    assert kept.effect == "not_in_effect", kept.detail
    assert "before the job started" in kept.detail
    assert fix.execute(job).ok
    wait_gone(governed, resource_path("v1", "pods", APP_NS), "till-1")
    assert fix.observe(job).effect == "in_effect"
    unstamped = fix.observe(replace(job, action="rollback-deployment"))
    assert unstamped.effect == "unknown"
