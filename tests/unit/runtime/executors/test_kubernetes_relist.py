"""The Kubernetes executor's relist (at its start, and after a 410) reports a tracked Job
missing from the list as deleted behind its back. A Job that start() creates while the
list's answer is on its way is missing from that answer too, and is not deleted. The
real API server's side of the executor is in tests/integration/k8s/test_executor.py."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any, cast

from nightshift.domain.vocabulary import InvestigationStatus, Tier
from nightshift.k8s.client import KubeApi, KubeError
from nightshift.k8s.jobs import JobTemplate
from nightshift.runtime.executors.kubernetes import KubernetesExecutor
from nightshift.runtime.executors.protocol import UnitLimits, WorkerExit, WorkerLaunch

JSON = dict[str, Any]


class ListRacesACreate:
    """An API server whose Job list is read before ``during_list`` creates a Job, so the
    answer leaves that Job out; the first watch answers 410 once the server is ``ready``."""

    def __init__(self) -> None:
        self.during_list: Callable[[], None] = lambda: None
        self.ready = threading.Event()
        self.listed = threading.Event()
        self.jobs: dict[str, JSON] = {}  # what the server lists; a test may remove one
        self.closed = threading.Event()
        self.watched = False

    def get(self, path: str, query: Mapping[str, Any] | None = None) -> JSON:
        self.ready.wait(5)
        items = list(self.jobs.values())  # read before the Job below is created
        self.during_list()
        self.during_list = lambda: None
        self.listed.set()
        return {"items": items, "metadata": {"resourceVersion": "1"}}

    def create(self, path: str, body: JSON, *, dry_run: bool = False) -> JSON:
        created = {**body, "metadata": {**body["metadata"], "uid": f"uid-{len(self.jobs)}"}}
        self.jobs[created["metadata"]["name"]] = created
        return created

    def merge_patch(self, path: str, patch: JSON, *, dry_run: bool = False) -> JSON:
        return {}

    def delete(self, path: str, *, propagation: str = "Background", dry_run: bool = False) -> JSON:
        return {}

    def watch(self, path: str, query: Mapping[str, Any], *, timeout_seconds: int) -> Iterator[JSON]:
        if not self.watched:
            # A watch resumed from a checkpoint is told its version is too old: relist.
            self.watched = True
            self.ready.wait(5)
            raise KubeError(410, "Expired", "too old resource version")
        self.closed.wait(5)
        return iter(())


def _launch(inv: str) -> WorkerLaunch:
    return WorkerLaunch(
        investigation_id=inv,
        agent="watcher",
        trust_phase="shadow",
        tier=Tier.SINGLE_DOMAIN,
        api_url="http://nightshift:8080",
        token="t",
        limits=UnitLimits(memory_mb=256, cpu_seconds=10, deadline_seconds=10),
    )


def test_a_job_created_while_the_list_is_answered_is_not_reported_deleted() -> None:
    api = ListRacesACreate()
    exits: list[WorkerExit] = []
    ex = KubernetesExecutor(
        cast(KubeApi, api), JobTemplate(namespace="agents", image="nightshift:test"), exits.append
    )
    try:
        api.during_list = lambda: ex.start(_launch("inv-raced"))
        api.ready.set()
        assert api.listed.wait(5)
        assert ex.wait_synced(5)
        assert exits == []
        assert ex.tracks("inv-raced")
    finally:
        api.closed.set()
        ex.shutdown()


def test_a_job_known_before_the_list_and_missing_from_it_was_deleted() -> None:
    api = ListRacesACreate()
    exits: queue.Queue[WorkerExit] = queue.Queue()
    ex = KubernetesExecutor(
        cast(KubeApi, api),
        JobTemplate(namespace="agents", image="nightshift:test"),
        exits.put,
        resume_resource_version="0",  # no list at start: the watch resumes from here
    )
    try:
        ex.start(_launch("inv-gone"))
        api.jobs.clear()  # deleted by someone else while the watch was down
        # The watch's 410 makes the executor relist; the Job it knows is not in the answer.
        api.ready.set()
        exit_ = exits.get(timeout=5)
        assert (exit_.investigation_id, exit_.status) == ("inv-gone", InvestigationStatus.FAILED)
        assert "deleted outside Nightshift" in exit_.reason
        assert not ex.tracks("inv-gone")
    finally:
        api.closed.set()
        ex.shutdown()
