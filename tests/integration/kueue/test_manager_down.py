"""Kueue's manager down: queued investigations stay suspended and are reported waiting."""

from __future__ import annotations

import pytest

from nightshift.domain.vocabulary import InvestigationStatus
from nightshift.k8s.client import KubeApi, KubeError, resource_path
from nightshift.k8s.names import credential_secret_name
from nightshift.runtime.executors.kubernetes_kueue import QueueState
from tests.integration.k8s.conftest import AGENTS_NS, Exits
from tests.integration.k8s.waiting import eventually
from tests.integration.kueue.manager import KueueManager
from tests.integration.kueue.queues import (
    Start,
    job_path,
    launch,
    make_queue,
    pods_of,
    suspended,
    wait_state,
    workload_of,
)

pytestmark = pytest.mark.slow


def test_with_the_manager_down_a_queued_job_stays_suspended_and_is_reported_waiting(
    admin: KubeApi, kueue: KueueManager, executor_for: Start, exits: Exits
) -> None:
    ex = executor_for(make_queue(admin, pods=1))
    running, queued = launch(), launch()
    for run in (running, queued):
        ex.start(run)
    wait_state(ex, running.investigation_id, QueueState.ADMITTED)
    wait_state(ex, queued.investigation_id, QueueState.WAITING)
    kueue.stop()
    try:
        # Nobody is there to admit: the Job stays suspended, podless, and Nightshift still
        # reports it waiting (its position is unknown without Kueue's visibility API).
        state = ex.admission(queued.investigation_id)
        assert state is not None
        assert state.state is QueueState.WAITING
        assert state.position_in_local_queue is None
        assert suspended(admin, queued.investigation_id)
        assert pods_of(admin, queued.investigation_id) == []
        # A new investigation's Job cannot even be created: Kueue's Job webhook fails closed,
        # and the executor leaves no credential behind.
        refused = launch()
        with pytest.raises(KubeError) as no_webhook:
            ex.start(refused)
        assert "mjob.kb.io" in str(no_webhook.value)
        assert not ex.tracks(refused.investigation_id)
        secret = resource_path(
            "v1", "secrets", AGENTS_NS, credential_secret_name(refused.investigation_id)
        )
        with pytest.raises(KubeError) as gone:
            admin.get(secret)
        assert gone.value.status == 404
        # A cancel starts the foreground deletion, which waits on the finalizer Kueue keeps
        # on the Workload: it completes (and is reported) once Kueue is back.
        ex.stop(running.investigation_id, "cancelled by alice")
        eventually(
            lambda: "deletionTimestamp" in admin.get(job_path(running.investigation_id))["metadata"]
        )
        held = workload_of(admin, running.investigation_id)
        assert "kueue.x-k8s.io/resource-in-use" in held["metadata"]["finalizers"]
    finally:
        kueue.start()
    ended = exits.wait_for(running.investigation_id, timeout=60)
    assert ended.status is InvestigationStatus.CANCELLED
    # Back up: Kueue frees the quota and admits the queued one from where it was.
    wait_state(ex, queued.investigation_id, QueueState.ADMITTED)
    eventually(lambda: not suspended(admin, queued.investigation_id), 30)
