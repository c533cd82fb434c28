"""The Kubernetes executor against a real API server, Job controller and KWOK nodes."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import kubernetes_validate
import pytest

from nightshift.domain.ids import new_ordered_id
from nightshift.domain.vocabulary import InvestigationStatus, Tier
from nightshift.k8s.client import KubeApi, KubeError, resource_path
from nightshift.k8s.jobs import JobTemplate, render_credential_secret, render_job
from nightshift.k8s.names import job_name
from nightshift.runtime.executors.kubernetes import KubernetesExecutor
from nightshift.runtime.executors.protocol import UnitLimits, WorkerLaunch
from tests.integration.k8s.conftest import AGENTS_NS, Exits
from tests.integration.k8s.waiting import wait_until

pytestmark = pytest.mark.slow
TEMPLATE = JobTemplate(namespace=AGENTS_NS, image="nightshift:test", ttl_seconds_after_finished=60)
SECRET_TOKEN = "tok-very-secret-123"


def launch(
    outcome: str | None = None, *, inv: str | None = None, deadline: int = 120
) -> WorkerLaunch:
    env = {"NIGHTSHIFT_TEST_OUTCOME": outcome} if outcome else {}
    return WorkerLaunch(
        investigation_id=inv or new_ordered_id(),
        agent="watcher",
        trust_phase="shadow",
        tier=Tier.SINGLE_DOMAIN,
        api_url="http://nightshift.nightshift.svc:8080",
        token=SECRET_TOKEN,
        limits=UnitLimits(memory_mb=768, cpu_seconds=120, deadline_seconds=deadline),
        secrets_handoff="handoff-code",
        extra_env=env,
    )


@pytest.fixture
def exits() -> Exits:
    return Exits()


@pytest.fixture
def executor(governed: KubeApi, exits: Exits) -> Iterator[KubernetesExecutor]:
    ex = KubernetesExecutor(governed, TEMPLATE, exits)
    assert ex.wait_synced()
    yield ex
    ex.shutdown()


def get_job(admin: KubeApi, inv: str) -> dict[str, object]:
    return admin.get(resource_path("batch/v1", "jobs", AGENTS_NS, job_name(inv)))


def test_rendered_job_and_secret_validate_against_the_kubernetes_schema() -> None:
    common = {
        "investigation_id": "inv-1",
        "agent": "watcher",
        "phase": "shadow",
        "tier": Tier.MULTI_DOMAIN,
    }
    job = render_job(TEMPLATE, api_url="http://cp:8080", deadline_seconds=900, **common)  # type: ignore[arg-type]
    secret = render_credential_secret(TEMPLATE, token="t", secrets_handoff="h", **common)  # type: ignore[arg-type]
    for obj in (job, secret):
        kubernetes_validate.validate(obj, "1.36.0", strict=True)


def test_job_spec_carries_deadline_resources_failure_policy_and_phase_account(
    executor: KubernetesExecutor, governed: KubeApi, exits: Exits
) -> None:
    run = launch()
    ref = executor.start(run)
    job = get_job(governed, run.investigation_id)
    spec = job["spec"]
    pod = spec["template"]["spec"]  # type: ignore[index]
    assert ref.startswith(f"job:{AGENTS_NS}/{job_name(run.investigation_id)}:")
    assert spec["backoffLimit"] == 0  # type: ignore[index]
    assert spec["activeDeadlineSeconds"] == 120  # type: ignore[index]
    assert spec["ttlSecondsAfterFinished"] == 60  # type: ignore[index]
    rules = spec["podFailurePolicy"]["rules"]  # type: ignore[index]
    assert rules[0] == {
        "action": "Ignore",
        "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}],
    }
    assert rules[1]["action"] == "FailJob"
    assert rules[1]["onExitCodes"]["operator"] == "NotIn"
    assert pod["restartPolicy"] == "Never"
    assert pod["serviceAccountName"] == "nsa-watcher-shadow"
    assert pod["automountServiceAccountToken"] is False
    worker = pod["containers"][0]
    assert worker["resources"]["limits"] == {"cpu": "1", "memory": "768Mi"}
    labels = job["metadata"]["labels"]  # type: ignore[index]
    assert labels["nightshift.io/investigation-id"] == run.investigation_id
    assert labels["nightshift.io/agent"] == "watcher"
    assert labels["nightshift.io/trust-phase"] == "shadow"
    # The credential is referenced, never inlined into the pod spec.
    assert SECRET_TOKEN not in json.dumps(job)
    token_env = next(e for e in worker["env"] if e["name"] == "NIGHTSHIFT_WORKER_TOKEN")
    assert token_env["valueFrom"]["secretKeyRef"]["name"].endswith("-cred")
    assert exits.wait_for(run.investigation_id).reason == "worker exited without reporting a result"


def test_completion_is_followed_by_watch_and_the_credential_is_removed(
    executor: KubernetesExecutor, governed: KubeApi, exits: Exits
) -> None:
    run = launch()
    executor.start(run)
    secret_path = resource_path(
        "v1", "secrets", AGENTS_NS, job_name(run.investigation_id) + "-cred"
    )
    owner = governed.get(secret_path)["metadata"]["ownerReferences"][0]
    assert owner["kind"] == "Job"
    done = exits.wait_for(run.investigation_id)
    assert done.status is InvestigationStatus.FAILED  # only applies if the worker never reported
    assert done.resources["job"] == job_name(run.investigation_id)
    with pytest.raises(KubeError) as gone:
        governed.get(secret_path)
    assert gone.value.status == 404
    assert executor.running() == 0


def test_stop_after_the_job_finished_keeps_it_and_its_pod_log(
    executor: KubernetesExecutor, governed: KubeApi, exits: Exits
) -> None:
    """The control plane stops every investigation that ends; a Job that already ended
    on its own is left to its TTL, so the pod's log and exit status can still be read."""
    run = launch("fail")
    executor.start(run)
    exits.wait_for(run.investigation_id)
    executor.stop(run.investigation_id, "investigation ended")
    job = get_job(governed, run.investigation_id)
    assert not job["metadata"].get("deletionTimestamp")  # type: ignore[union-attr]
    log = executor.read_log(run.investigation_id)
    assert log is not None
    assert "starting checkout" in log


def test_non_zero_exit_is_a_terminal_failure_with_its_exit_code(
    executor: KubernetesExecutor, exits: Exits, governed: KubeApi
) -> None:
    run = launch("fail")
    executor.start(run)
    failed = exits.wait_for(run.investigation_id)
    assert failed.status is InvestigationStatus.FAILED
    assert failed.reason == "worker crashed with exit code 2; see its log"
    conds = get_job(governed, run.investigation_id)["status"]["conditions"]  # type: ignore[index]
    assert any(c["type"] == "Failed" and c["reason"] == "PodFailurePolicy" for c in conds)


def test_out_of_memory_kill_is_reported_as_such(executor: KubernetesExecutor, exits: Exits) -> None:
    run = launch("oom")
    executor.start(run)
    assert exits.wait_for(run.investigation_id).reason == "worker ran out of memory (OOM)"


def test_job_deadline_ends_the_investigation_as_deadline_exceeded(
    executor: KubernetesExecutor, exits: Exits
) -> None:
    run = launch("hold", deadline=2)
    executor.start(run)
    ended = exits.wait_for(run.investigation_id)
    assert ended.status is InvestigationStatus.DEADLINE_EXCEEDED
    assert ended.reason == "Job deadline of 2s exceeded"


def _job_gone(api: KubeApi, investigation_id: str) -> bool:
    try:
        get_job(api, investigation_id)
    except KubeError as exc:
        if exc.status == 404:
            return True
        raise
    return False


def test_cancel_deletes_the_job_and_its_pods_in_the_foreground(
    executor: KubernetesExecutor, exits: Exits, governed: KubeApi
) -> None:
    run = launch("hold")
    executor.start(run)
    executor.stop(run.investigation_id, "cancelled by alice")
    ended = exits.wait_for(run.investigation_id)
    assert ended.status is InvestigationStatus.CANCELLED
    assert ended.reason == "cancelled by alice"
    # Foreground propagation: the Job object disappears only after its pods did. The
    # garbage collector works after the cancel returned: wait for the Job to go, then
    # no pod of it may be left.
    deadline = time.monotonic() + 30
    while not _job_gone(governed, run.investigation_id):
        assert time.monotonic() < deadline, "the cancelled Job was never deleted"
        time.sleep(0.2)
    pods = governed.get(
        resource_path("v1", "pods", AGENTS_NS),
        {"labelSelector": f"batch.kubernetes.io/job-name={job_name(run.investigation_id)}"},
    )
    assert pods["items"] == []


def test_job_deleted_behind_our_back_fails_the_investigation_with_the_reason(
    executor: KubernetesExecutor, exits: Exits, governed: KubeApi
) -> None:
    run = launch("hold")
    executor.start(run)
    governed.delete(resource_path("batch/v1", "jobs", AGENTS_NS, job_name(run.investigation_id)))
    ended = exits.wait_for(run.investigation_id)
    assert ended.status is InvestigationStatus.FAILED
    assert "deleted outside Nightshift" in ended.reason


def test_names_and_labels_are_valid_whatever_the_investigation_id(
    executor: KubernetesExecutor, exits: Exits, governed: KubeApi
) -> None:
    weird = "Inv_ÜBER/..__" + "x" * 120
    run = launch(inv=weird)
    executor.start(run)
    job = get_job(governed, weird)
    assert len(job["metadata"]["name"]) <= 52  # type: ignore[index]
    assert job["metadata"]["annotations"]["nightshift.io/investigation-id"] == weird  # type: ignore[index]
    assert exits.wait_for(weird).investigation_id == weird


def test_watch_resumes_from_a_resource_version_after_a_control_plane_restart(
    governed: KubeApi,
) -> None:
    before_restart = Exits()
    first = KubernetesExecutor(governed, TEMPLATE, before_restart)
    assert first.wait_synced()
    checkpoint = first.resource_version
    first.shutdown()
    run = launch("fail")
    ref = first.start(run)  # the Job runs and fails while nobody watches
    after_restart = Exits()
    second = KubernetesExecutor(
        governed, TEMPLATE, after_restart, resume_resource_version=checkpoint
    )
    try:
        assert second.adopt(run.investigation_id, ref)
        ended = after_restart.wait_for(run.investigation_id)
        assert ended.reason == "worker crashed with exit code 2; see its log"
    finally:
        second.shutdown()


def test_worker_log_is_read_through_the_api(
    executor: KubernetesExecutor, governed: KubeApi, exits: Exits
) -> None:
    run = launch("hold")
    executor.start(run)
    wait_until(
        governed,
        resource_path("batch/v1", "jobs", AGENTS_NS),
        job_name(run.investigation_id),
        lambda j: j.get("status", {}).get("ready", 0) >= 1,
    )
    log = executor.read_log(run.investigation_id)
    assert log is not None
    assert "starting checkout" in log
    executor.stop(run.investigation_id, "done")
    exits.wait_for(run.investigation_id)
    assert executor.read_log("never-started") is None


def test_orphan_from_before_a_restart_is_stopped(
    executor: KubernetesExecutor, governed: KubeApi
) -> None:
    run = launch("hold")
    ref = executor.start(run)
    assert executor.adopt_or_kill_orphan(ref) is True
    assert executor.adopt_or_kill_orphan("job:elsewhere/x:uid") is False
    assert executor.adopt_or_kill_orphan("pid:1:2") is False


def test_kueue_ready_job_is_created_suspended_with_queue_and_priority_labels(
    governed: KubeApi, exits: Exits
) -> None:
    template = JobTemplate(
        namespace=AGENTS_NS,
        image="nightshift:test",
        kueue_queue="nightshift-investigations",
        kueue_priority_class={Tier.SINGLE_DOMAIN: "nightshift-single-domain"},
    )
    ex = KubernetesExecutor(governed, template, exits)
    try:
        run = launch()
        ex.start(run)
        job = get_job(governed, run.investigation_id)
        labels = job["metadata"]["labels"]  # type: ignore[index]
        assert job["spec"]["suspend"] is True  # type: ignore[index]
        assert labels["kueue.x-k8s.io/queue-name"] == "nightshift-investigations"
        assert labels["kueue.x-k8s.io/priority-class"] == "nightshift-single-domain"
        # The Job controller acknowledges the suspension and starts nothing until Kueue admits it.
        wait_until(
            governed,
            resource_path("batch/v1", "jobs", AGENTS_NS),
            job_name(run.investigation_id),
            lambda j: any(
                c["type"] == "Suspended" and c["status"] == "True"
                for c in j.get("status", {}).get("conditions") or []
            ),
        )
        pods = governed.get(
            resource_path("v1", "pods", AGENTS_NS),
            {"labelSelector": f"batch.kubernetes.io/job-name={job_name(run.investigation_id)}"},
        )
        assert pods["items"] == []
        ex.stop(run.investigation_id, "test over")
        assert exits.wait_for(run.investigation_id).status is InvestigationStatus.CANCELLED
    finally:
        ex.shutdown()


def test_evicted_worker_pod_is_replaced_not_counted_as_a_failure(
    executor: KubernetesExecutor, exits: Exits, governed: KubeApi
) -> None:
    run = launch("hold")
    executor.start(run)
    jobs = resource_path("batch/v1", "jobs", AGENTS_NS)
    name = job_name(run.investigation_id)
    wait_until(governed, jobs, name, lambda j: j.get("status", {}).get("ready", 0) >= 1)
    pods = resource_path("v1", "pods", AGENTS_NS)
    selector = {"labelSelector": f"batch.kubernetes.io/job-name={name}"}
    first = governed.get(pods, selector)["items"][0]["metadata"]["name"]
    # A disruption (what a drained or lost node does): the DisruptionTarget rule ignores it.
    governed.create(
        f"{pods}/{first}/eviction",
        {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": first}},
    )
    replaced = wait_until(
        governed,
        jobs,
        name,
        lambda j: (
            j.get("status", {}).get("ready", 0) >= 1
            and first not in {p["metadata"]["name"] for p in governed.get(pods, selector)["items"]}
        ),
    )
    # The Job controller recreated the pod (after its usual 10 s pod backoff) and counted
    # nothing against backoffLimit 0.
    conds = {c["type"] for c in replaced.get("status", {}).get("conditions") or []}
    assert not conds & {"Failed", "FailureTarget"}
    assert replaced["status"].get("failed", 0) == 0
    executor.stop(run.investigation_id, "test over")
    assert exits.wait_for(run.investigation_id).status is InvestigationStatus.CANCELLED
