"""A fault-injection wrapper: the control plane dies at a named point of an execution.

For the fault matrix only (``NIGHTSHIFT_TEST_CRASH_AT``): the process sends
itself SIGKILL, exactly as an OOM kill or a power cut would end it, so tests
of recovery see a proposal left ``executing`` by a real dead process, not a
simulation of one. Never set in production; the control plane logs a warning
at start when it is.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Mapping
from typing import Any, Literal

from nightshift.services.remediation_port import (
    Observation,
    RemediationJob,
    Remediator,
    StepResult,
)

CrashPoint = Literal[
    "remediation.before_execute", "remediation.after_execute", "remediation.mid_rollback"
]
CRASH_POINTS: tuple[CrashPoint, ...] = (
    "remediation.before_execute",
    "remediation.after_execute",
    "remediation.mid_rollback",  # after the inverse ran, before the rollback was stored
)


class CrashingRemediator:
    def __init__(self, inner: Remediator, at: CrashPoint) -> None:
        self._inner = inner
        self._at = at

    def dry_run(self, job: RemediationJob) -> StepResult:
        return self._inner.dry_run(job)

    def execute(self, job: RemediationJob) -> StepResult:
        if self._at == "remediation.before_execute":
            _die()
        done = self._inner.execute(job)
        if self._at == "remediation.after_execute":
            _die()
        return done

    def symptoms_present(self, job: RemediationJob) -> bool:
        return self._inner.symptoms_present(job)

    def rollback(self, job: RemediationJob, inverse: str, undo: Mapping[str, Any]) -> StepResult:
        done = self._inner.rollback(job, inverse, undo)
        if self._at == "remediation.mid_rollback":
            _die()
        return done

    def observe(self, job: RemediationJob) -> Observation:
        return self._inner.observe(job)

    def __getattr__(self, name: str) -> Any:
        # remediator_for() and friends of the wrapped remediator stay reachable.
        return getattr(self._inner, name)


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)
