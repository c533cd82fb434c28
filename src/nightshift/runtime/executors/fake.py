"""An in-memory executor for tests: records launches; tests decide how units end."""

from __future__ import annotations

import threading

from nightshift.domain.vocabulary import InvestigationStatus
from nightshift.runtime.executors.protocol import ExitHandler, WorkerExit, WorkerLaunch


class FakeExecutor:
    def __init__(self, on_exit: ExitHandler | None = None) -> None:
        self.on_exit = on_exit
        self.launches: list[WorkerLaunch] = []
        self.stopped: dict[str, str] = {}
        self.live: set[str] = set()
        self.orphans_killed: list[str] = []
        self.fail_next_start: Exception | None = None
        # Set to make every stop raise (the cluster's API server is down, say).
        self.fail_stop: Exception | None = None
        self._lock = threading.Lock()

    def start(self, launch: WorkerLaunch) -> str:
        if self.fail_next_start is not None:
            exc, self.fail_next_start = self.fail_next_start, None
            raise exc
        with self._lock:
            self.launches.append(launch)
            self.live.add(launch.investigation_id)
        return f"fake:{launch.investigation_id}"

    def stop(self, investigation_id: str, reason: str) -> None:
        if self.fail_stop is not None:
            raise self.fail_stop
        with self._lock:
            if investigation_id in self.live:
                self.stopped[investigation_id] = reason
                self.live.discard(investigation_id)

    def adopt_or_kill_orphan(self, worker_ref: str) -> bool:
        self.orphans_killed.append(worker_ref)
        return True

    def tracks(self, investigation_id: str) -> bool:
        return investigation_id in self.live

    def read_log(self, investigation_id: str, tail_bytes: int = 1_000_000) -> str | None:
        return f"log of {investigation_id}\n" if investigation_id in self._all() else None

    def running(self) -> int:
        return len(self.live)

    def shutdown(self) -> None:
        self.live.clear()

    def purge_logs(self, older_than_seconds: float) -> int:
        return 0

    def exit(self, investigation_id: str, status: InvestigationStatus | None, reason: str) -> None:
        """Simulate the unit ending (crash, kill, deadline) as the executor would report it."""
        with self._lock:
            self.live.discard(investigation_id)
        if self.on_exit is not None:
            self.on_exit(WorkerExit(investigation_id, status, reason, {"cpu_seconds": 0.1}))

    def _all(self) -> set[str]:
        return {launch.investigation_id for launch in self.launches}
