"""Kubernetes executor: one batch/v1 Job per investigation.

The Job (see ``nightshift.k8s.jobs``) carries the deadline, resources, failure
policy and phase ServiceAccount; the credential sits in a Secret the pod only
references. Status comes from ONE watch over all worker Jobs in the namespace
(never a polling loop): the watch resumes from the last resourceVersion it saw,
relists on 410 Gone, and can be started from a checkpoint after a
control-plane restart. Cancel deletes the Job with foreground propagation so
its pods go first; a Job that has already finished is left to its
ttlSecondsAfterFinished, so its pod's log and exit status stay readable.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from nightshift.domain.vocabulary import InvestigationStatus
from nightshift.k8s.client import JSON, KubeApi, KubeError, resource_path
from nightshift.k8s.jobs import (
    ANNOTATION_INVESTIGATION,
    WORKER_SELECTOR,
    JobTemplate,
    render_credential_secret,
    render_job,
)
from nightshift.k8s.names import credential_secret_name, job_name
from nightshift.runtime.executors.kubernetes_kueue import Admission, admission_of
from nightshift.runtime.executors.protocol import (
    EXIT_OUT_OF_MEMORY,
    ExitHandler,
    ReportsAdmission,
    WorkerExit,
    WorkerLaunch,
)

log = logging.getLogger(__name__)
S = InvestigationStatus
_OOM_KILLED = 137
# Investigations whose Job finished on its own, remembered so that the stop() the
# control plane sends when the investigation ends keeps their pods (bounded: the Jobs
# themselves go after ttlSecondsAfterFinished).
_FINISHED_KEPT = 4096


@dataclass
class _Tracked:
    name: str
    uid: str = ""
    cancel_reason: str | None = None
    reported: bool = False


class KubernetesExecutor:
    def __init__(
        self,
        api: KubeApi,
        template: JobTemplate,
        on_exit: ExitHandler,
        *,
        resume_resource_version: str | None = None,
        watch_timeout_seconds: int = 240,
        kueue_visibility: KubeApi | None = None,
    ) -> None:
        self._api = api
        # Kueue's visibility API (queue positions); in a cluster the API server aggregates
        # it, so this is ``api`` itself; None: positions are not read.
        self._visibility = kueue_visibility
        self._template = template
        self._on_exit = on_exit
        self._jobs = resource_path("batch/v1", "jobs", template.namespace)
        self._secrets = resource_path("v1", "secrets", template.namespace)
        self._tracked: dict[str, _Tracked] = {}
        self._finished: dict[str, None] = {}  # insertion-ordered: the oldest goes first
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._synced = threading.Event()
        self._rv = resume_resource_version
        self._watch_timeout = watch_timeout_seconds
        self._thread = threading.Thread(target=self._watch_loop, name="k8s-job-watch", daemon=True)
        self._thread.start()

    @property
    def resource_version(self) -> str | None:
        """Checkpoint to persist; pass it back as ``resume_resource_version`` after a restart."""
        return self._rv

    def wait_synced(self, timeout: float = 10.0) -> bool:
        return self._synced.wait(timeout)

    # -- Executor protocol ------------------------------------------------------------

    def start(self, launch: WorkerLaunch) -> str:
        inv = launch.investigation_id
        name = job_name(inv)
        with self._lock:
            self._tracked[inv] = _Tracked(name)
            self._finished.pop(inv, None)
        secret = render_credential_secret(
            self._template,
            investigation_id=inv,
            agent=launch.agent,
            phase=launch.trust_phase,
            tier=launch.tier,
            token=launch.token,
            secrets_handoff=launch.secrets_handoff,
        )
        job = render_job(
            self._template,
            investigation_id=inv,
            agent=launch.agent,
            phase=launch.trust_phase,
            tier=launch.tier,
            api_url=launch.api_url,
            deadline_seconds=launch.limits.deadline_seconds,
            secrets_backend=launch.secrets_backend,
            extra_env=launch.extra_env,
        )
        try:
            self._create_or_replace_secret(secret)
        except KubeError:
            with self._lock:
                self._tracked.pop(inv, None)
            raise
        try:
            created = self._api.create(self._jobs, job)
        except KubeError:
            with self._lock:
                self._tracked.pop(inv, None)
            # No Job will own the credential: do not leave it behind.
            with contextlib.suppress(KubeError):
                self._api.delete(f"{self._secrets}/{credential_secret_name(inv)}")
            raise
        uid = str(created["metadata"]["uid"])
        with self._lock:
            tracked = self._tracked.get(inv)
            if tracked is not None:  # a very fast Job may already have been reported
                tracked.uid = uid
        # The Secret lives exactly as long as its Job: garbage-collected with it.
        owner = {"apiVersion": "batch/v1", "kind": "Job", "name": name, "uid": uid}
        try:
            self._api.merge_patch(
                f"{self._secrets}/{credential_secret_name(inv)}",
                {"metadata": {"ownerReferences": [owner]}},
            )
        except KubeError as exc:
            log.warning("could not attach credential of %s to its Job: %s", inv, exc)
        return f"job:{self._template.namespace}/{name}:{uid}"

    def stop(self, investigation_id: str, reason: str) -> None:
        with self._lock:
            if investigation_id in self._finished:
                return  # nothing runs any more; the finished Job keeps its pod's log
            tracked = self._tracked.setdefault(
                investigation_id, _Tracked(job_name(investigation_id))
            )
            if tracked.cancel_reason is None:
                tracked.cancel_reason = reason
            name = tracked.name
        self._delete_job(name)

    def adopt_or_kill_orphan(self, worker_ref: str) -> bool:
        """A Job from before a control-plane restart: stop it if it still runs."""
        try:
            kind, rest = worker_ref.split(":", 1)
            location, uid = rest.rsplit(":", 1)
            namespace, name = location.split("/", 1)
        except ValueError:
            return False
        if kind != "job" or namespace != self._template.namespace:
            return False
        try:
            job = self._api.get(f"{self._jobs}/{name}")
        except KubeError as exc:
            if exc.status == 404:
                return False
            raise
        if job["metadata"].get("uid") != uid or _finished(job) is not None:
            return False
        self._delete_job(name)
        return True

    def adopt(self, investigation_id: str, worker_ref: str) -> bool:
        """Follow a Job started before a control-plane restart instead of killing it.

        Construct the executor with ``resume_resource_version`` (the checkpoint it had)
        so the watch replays what happened while nobody watched. True if the Job exists.
        """
        location = worker_ref.split(":", 1)[-1]
        name, _, uid = location.split("/", 1)[-1].rpartition(":")
        with self._lock:
            self._tracked.setdefault(investigation_id, _Tracked(name, uid))
        try:
            job = self._api.get(f"{self._jobs}/{name}")
        except KubeError as exc:
            if exc.status != 404:
                raise
            self._report_deleted(investigation_id)
            return False
        if job["metadata"].get("uid") != uid:
            self._report_deleted(investigation_id)
            return False
        self._observe(job, deleted=False)
        return True

    def read_log(self, investigation_id: str, tail_bytes: int = 1_000_000) -> str | None:
        pods = self._api.get(
            resource_path("v1", "pods", self._template.namespace),
            {"labelSelector": f"batch.kubernetes.io/job-name={job_name(investigation_id)}"},
        ).get("items", [])
        if not pods:
            return None
        newest = max(pods, key=lambda p: str(p["metadata"].get("creationTimestamp", "")))
        path = resource_path(
            "v1", "pods", self._template.namespace, newest["metadata"]["name"], "log"
        )
        try:
            return self._api.get_text(path, {"limitBytes": str(tail_bytes)})
        except KubeError as exc:
            if exc.status in (400, 404):  # container not started yet / pod gone
                return None
            raise

    def admission(self, investigation_id: str) -> Admission | None:
        """Where the investigation's Job stands in Kueue (waiting, with its queue position,
        admitted, or evicted and re-queued); None without Kueue, or with no such Job left."""
        if not self._template.kueue_queue:
            return None
        try:
            job = self._api.get(f"{self._jobs}/{job_name(investigation_id)}")
        except KubeError as exc:
            if exc.status == 404:
                return None
            raise
        if job["metadata"].get("deletionTimestamp"):
            return None  # cancelled or finished and going: no longer anyone's to admit
        uid = str(job["metadata"]["uid"])
        return admission_of(self._api, self._template.namespace, uid, visibility=self._visibility)

    def tracks(self, investigation_id: str) -> bool:
        with self._lock:
            return investigation_id in self._tracked

    def running(self) -> int:
        with self._lock:
            return sum(1 for t in self._tracked.values() if not t.reported)

    def shutdown(self) -> None:
        # Jobs keep running under their own activeDeadlineSeconds; only our watch stops.
        self._stopping.set()

    def purge_logs(self, older_than_seconds: float) -> int:
        return 0  # logs live with the pods; ttlSecondsAfterFinished removes them

    # -- internals --------------------------------------------------------------------

    def _create_or_replace_secret(self, secret: JSON) -> None:
        try:
            self._api.create(self._secrets, secret)
        except KubeError as exc:
            if exc.status != 409:
                raise
            # A leftover from an earlier attempt of the same investigation: its credential
            # is stale, and the Secret is immutable, so replace it.
            self._api.delete(f"{self._secrets}/{secret['metadata']['name']}")
            self._api.create(self._secrets, secret)

    def _delete_job(self, name: str) -> None:
        try:
            self._api.delete(f"{self._jobs}/{name}", propagation="Foreground")
        except KubeError as exc:
            if exc.status != 404:
                raise

    def _watch_loop(self) -> None:
        backoff = 0.2
        while not self._stopping.is_set():
            try:
                if self._rv is None:
                    self._relist()
                self._synced.set()
                for event in self._api.watch(
                    self._jobs,
                    {"labelSelector": WORKER_SELECTOR, "resourceVersion": self._rv},
                    timeout_seconds=self._watch_timeout,
                ):
                    if self._stopping.is_set():
                        return
                    self._on_event(event)
                backoff = 0.2
            except KubeError as exc:
                if exc.status in (410, 504):
                    # 410: our version is too old; 504: the server's watch cache has not
                    # caught up with it. Either way: relist, then watch from the list.
                    self._rv = None
                    continue
                log.warning("job watch failed (%s); retrying in %.1fs", exc, backoff)
                self._stopping.wait(backoff)
                backoff = min(backoff * 2, 10.0)
            except Exception:
                log.exception("job watch crashed; retrying in %.1fs", backoff)
                self._stopping.wait(backoff)
                backoff = min(backoff * 2, 10.0)

    def _relist(self) -> None:
        # Only Jobs created before the list was asked for can be missing from it: one that
        # start() creates while the answer is on its way is absent without being deleted.
        with self._lock:
            known = {i: t.uid for i, t in self._tracked.items() if t.uid}
        listing = self._api.get(self._jobs, {"labelSelector": WORKER_SELECTOR})
        present = set()
        for job in listing.get("items", []):
            present.add(job["metadata"]["name"])
            self._observe(job, deleted=False)
        # A Job we started that vanished while the watch was down was deleted behind our back.
        with self._lock:
            gone = [
                i
                for i, t in self._tracked.items()
                if t.uid and known.get(i) == t.uid and t.name not in present
            ]
        for inv in gone:
            self._report_deleted(inv)
        self._rv = str(listing["metadata"]["resourceVersion"])

    def _on_event(self, event: JSON) -> None:
        kind = event.get("type")
        obj: JSON = event.get("object") or {}
        if kind == "ERROR":
            raise KubeError(int(obj.get("code", 500)), str(obj.get("reason", "")), str(obj))
        rv = obj.get("metadata", {}).get("resourceVersion")
        if rv:
            self._rv = str(rv)
        if kind in ("ADDED", "MODIFIED", "DELETED"):
            self._observe(obj, deleted=kind == "DELETED")

    def _observe(self, job: JSON, *, deleted: bool) -> None:
        meta = job.get("metadata", {})
        inv = (meta.get("annotations") or {}).get(ANNOTATION_INVESTIGATION)
        if not inv:
            return
        with self._lock:
            tracked = self._tracked.get(inv)
            if tracked is None or tracked.reported:
                return
            if tracked.uid and meta.get("uid") != tracked.uid:
                return  # an older Job of the same name
        ended = _finished(job)
        if ended is None and not deleted:
            return
        if ended is None:
            self._report_deleted(inv)
            return
        with self._lock:
            self._finished[inv] = None
            while len(self._finished) > _FINISHED_KEPT:
                del self._finished[next(iter(self._finished))]
        self._report(inv, _classify(inv, job, ended, tracked.cancel_reason))

    def _report_deleted(self, inv: str) -> None:
        with self._lock:
            tracked = self._tracked[inv]
        if tracked.cancel_reason is not None:
            exit_ = WorkerExit(inv, S.CANCELLED, tracked.cancel_reason)
        else:
            exit_ = WorkerExit(
                inv, S.FAILED, "the worker's Job was deleted outside Nightshift before it finished"
            )
        self._report(inv, exit_)

    def _report(self, inv: str, exit_: WorkerExit) -> None:
        with self._lock:
            tracked = self._tracked.get(inv)
            if tracked is None or tracked.reported:
                return
            tracked.reported = True
            del self._tracked[inv]
        try:
            self._api.delete(f"{self._secrets}/{credential_secret_name(inv)}")
        except KubeError as exc:
            if exc.status != 404:
                log.warning("could not delete the credential of %s: %s", inv, exc)
        try:
            self._on_exit(exit_)
        except Exception:
            log.exception("exit handler failed for %s", inv)


def _finished(job: JSON) -> JSON | None:
    """The terminal condition (Complete or Failed) of a Job, if it has one."""
    for cond in job.get("status", {}).get("conditions") or []:
        if cond.get("type") in ("Complete", "Failed") and cond.get("status") == "True":
            return dict(cond)
    return None


def _classify(inv: str, job: JSON, cond: JSON, cancel_reason: str | None) -> WorkerExit:
    status = job.get("status", {})
    resources: dict[str, Any] = {"job": job["metadata"]["name"]}
    started, ended = (
        status.get("startTime"),
        status.get("completionTime") or cond.get("lastTransitionTime"),
    )
    if started and ended:
        resources["wall_seconds"] = (_ts(ended) - _ts(started)).total_seconds()
    if cancel_reason is not None:
        return WorkerExit(inv, S.CANCELLED, cancel_reason, resources)
    if cond["type"] == "Complete":
        return WorkerExit(inv, S.FAILED, "worker exited without reporting a result", resources)
    reason, message = str(cond.get("reason", "")), str(cond.get("message", ""))
    if reason == "DeadlineExceeded":
        deadline = job["spec"].get("activeDeadlineSeconds")
        return WorkerExit(
            inv, S.DEADLINE_EXCEEDED, f"Job deadline of {deadline}s exceeded", resources
        )
    code = _exit_code(message)
    if code in (EXIT_OUT_OF_MEMORY, _OOM_KILLED):
        why = "worker ran out of memory (OOM)"
    elif code is not None:
        why = f"worker crashed with exit code {code}; see its log"
    else:
        why = f"worker Job failed: {reason}: {message}".rstrip(": ")
    return WorkerExit(inv, S.FAILED, why, resources)


def _exit_code(message: str) -> int | None:
    # The Job controller's message: "Container worker for pod ns/x failed with exit code 3
    # matching FailJob rule at index 1".
    marker = "exit code "
    if marker not in message:
        return None
    digits = message.split(marker, 1)[1].split()[0]
    return int(digits) if digits.isdigit() else None


def _ts(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


# mypy holds the executor to the capability the API and the reconciler look for.
_REPORTS_ADMISSION: type[ReportsAdmission] = KubernetesExecutor
