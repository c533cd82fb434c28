"""Terminal writes that failed are kept and retried until they are stored.

A unit's exit is reported once, by the executor's watcher. If the database
refuses that write (read-only, full, down), dropping it would leave the
investigation ``dispatched`` or ``running`` for good with no reason. The exit
is kept here instead and retried with a bounded exponential backoff for as
long as it takes; nothing is dropped but an exit the service itself refuses
for good (the investigation is gone, or the transition is not allowed).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from nightshift.runtime.executors.protocol import WorkerExit
from nightshift.services.errors import Conflict, NotFound

log = logging.getLogger(__name__)
FIRST_DELAY_SECONDS = 1.0
MAX_DELAY_SECONDS = 30.0


@dataclass
class _Pending:
    exit: WorkerExit
    attempts: int
    next_at: float


class ExitQueue:
    def __init__(
        self,
        record: Callable[[WorkerExit], object],
        *,
        first_delay: float = FIRST_DELAY_SECONDS,
        max_delay: float = MAX_DELAY_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._record = record
        self._first = first_delay
        self._max = max_delay
        self._clock = clock
        self._pending: dict[str, _Pending] = {}
        self._lock = threading.Lock()

    def submit(self, exit_: WorkerExit) -> bool:
        """Record now; on failure keep it for ``retry_due``. True if stored now."""
        if self._try(exit_):
            return True
        with self._lock:
            self._pending[exit_.investigation_id] = _Pending(exit_, 1, self._clock() + self._first)
        return False

    def retry_due(self) -> int:
        """Retry every exit whose backoff has passed; returns how many were stored."""
        now = self._clock()
        with self._lock:
            due = [p for p in self._pending.values() if p.next_at <= now]
        stored = 0
        for item in due:
            if self._try(item.exit):
                stored += 1
                with self._lock:
                    self._pending.pop(item.exit.investigation_id, None)
                continue
            # Hand-rolled, not tenacity: each exit keeps its own attempts and due time (issue 18).
            item.attempts += 1
            delay = min(self._max, self._first * 2 ** (item.attempts - 1))
            item.next_at = self._clock() + delay
        if stored:
            log.warning("recorded %d worker exit(s) after retrying", stored)
        return stored

    def pending(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self._pending)

    def _try(self, exit_: WorkerExit) -> bool:
        try:
            self._record(exit_)
        except (NotFound, Conflict) as exc:
            # Refused for good, not for now: retrying cannot change the answer.
            log.warning("exit of %s not recorded: %s", exit_.investigation_id, exc)
            return True
        except Exception:
            log.exception(
                "could not record the exit of %s; retrying until stored",
                exit_.investigation_id,
            )
            return False
        return True
