"""bench.k8s's observer keeps watching when its watch stream breaks, so its
submission -> running sample covers every Job (the bench reports the size)."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from typing import Any

from bench.k8s.run import Observer
from nightshift.k8s.client import KubeError
from nightshift.k8s.jobs import ANNOTATION_INVESTIGATION

Obj = dict[str, Any]


def _job(inv: str, rv: int, *, ready: int) -> Obj:
    return {
        "metadata": {
            "name": f"job-{inv}",
            "resourceVersion": str(rv),
            "annotations": {ANNOTATION_INVESTIGATION: inv},
        },
        "status": {"ready": ready},
    }


def _event(kind: str, obj: Obj) -> Obj:
    return {"type": kind, "object": obj}


class ScriptedWatches:
    """Each watch call plays the next script: its events, then how it ends (a
    KubeError, or the server's normal close). Records the query of every call."""

    def __init__(self, scripts: list[tuple[list[Obj], KubeError | None]], listing: Obj) -> None:
        self.scripts = scripts
        self.listing = listing
        self.queries: list[dict[str, Any]] = []
        self.lists: list[dict[str, Any]] = []
        self.drained = threading.Event()

    def get(self, path: str, query: Mapping[str, Any] | None = None) -> Obj:
        self.lists.append(dict(query or {}))
        if len(self.lists) == 1:  # the observer's start: only the current version
            return {"metadata": {"resourceVersion": "100"}, "items": []}
        return self.listing

    def watch(
        self, path: str, query: Mapping[str, Any], *, timeout_seconds: int = 300
    ) -> Iterator[Obj]:
        self.queries.append(dict(query))
        if not self.scripts:
            self.drained.set()
            threading.Event().wait(0.01)
            return
        events, end = self.scripts.pop(0)
        yield from events
        if end is not None:
            raise end


def _observe(api: ScriptedWatches) -> Observer:
    observer = Observer(api, backoff_seconds=0)
    observer.start()
    assert api.drained.wait(10), "the observer stopped watching"
    observer.stop()
    observer.join(5)
    return observer


def test_a_broken_watch_resumes_from_the_last_resource_version_and_misses_no_job() -> None:
    broken = KubeError(0, "Unreachable", "watch stream broken: connection reset")
    api = ScriptedWatches(
        [
            (
                [
                    _event("ADDED", _job("a", 101, ready=0)),
                    _event("MODIFIED", _job("a", 102, ready=1)),
                ],
                broken,
            ),
            ([_event("MODIFIED", _job("b", 103, ready=1))], broken),
            ([_event("BOOKMARK", {"metadata": {"resourceVersion": "110"}})], None),
            ([_event("MODIFIED", _job("c", 111, ready=1))], None),
        ],
        listing={"metadata": {"resourceVersion": "0"}, "items": []},
    )
    observer = _observe(api)
    assert set(observer.running_at) == {"a", "b", "c"}
    assert [q["resourceVersion"] for q in api.queries[:4]] == ["100", "102", "103", "110"]
    assert observer.breaks == 2
    assert observer.relists == 0
    assert observer.late == set()


def test_a_gone_resource_version_relists_and_counts_jobs_it_saw_only_there_as_late() -> None:
    gone = {"kind": "Status", "code": 410, "reason": "Expired", "message": "too old"}
    api = ScriptedWatches(
        [
            ([_event("MODIFIED", _job("a", 101, ready=1)), _event("ERROR", gone)], None),
            ([_event("MODIFIED", _job("c", 201, ready=1))], None),
        ],
        listing={
            "metadata": {"resourceVersion": "200"},
            "items": [_job("a", 101, ready=1), _job("b", 150, ready=1), _job("d", 151, ready=0)],
        },
    )
    observer = _observe(api)
    assert set(observer.running_at) == {"a", "c"}  # timed: seen as they happened
    assert observer.late == {"b"}  # ran while nobody watched: no time invented for it
    assert observer.relists == 1
    assert api.queries[1]["resourceVersion"] == "200"  # watched on from the list
