"""Choose the remediator by the world an investigation's evidence came from.

A simulated investigation is remediated in its simulated world; one whose
evidence came from a cluster, on that cluster (when a cluster remediator is
configured). Anything else is refused with a reason: never acted on elsewhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nightshift.services.remediation_port import (
    Observation,
    RemediationJob,
    Remediator,
    StepResult,
)
from nightshift.sources.config import SourceKind


class RoutedRemediator:
    def __init__(self, by_kind: Mapping[SourceKind, Remediator]) -> None:
        self._by_kind = dict(by_kind)

    def remediator_for(self, kind: SourceKind) -> Remediator | None:
        return self._by_kind.get(kind)

    def _for(self, job: RemediationJob) -> Remediator | None:
        for source in job.sources:
            found = self._by_kind.get(source.kind)
            if found is not None:
                return found
        return None

    def _refused(self, job: RemediationJob) -> StepResult:
        kinds = ", ".join(sorted({s.kind.value for s in job.sources})) or "none"
        return StepResult(
            False,
            f"no remediator is configured for this investigation's sources ({kinds}); "
            "set NIGHTSHIFT_REMEDIATOR=kubernetes with a kubernetes source (docs/sources.md)",
        )

    def dry_run(self, job: RemediationJob) -> StepResult:
        found = self._for(job)
        return found.dry_run(job) if found is not None else self._refused(job)

    def execute(self, job: RemediationJob) -> StepResult:
        found = self._for(job)
        return found.execute(job) if found is not None else self._refused(job)

    def symptoms_present(self, job: RemediationJob) -> bool:
        found = self._for(job)
        return True if found is None else found.symptoms_present(job)

    def rollback(self, job: RemediationJob, inverse: str, undo: Mapping[str, Any]) -> StepResult:
        found = self._for(job)
        return found.rollback(job, inverse, undo) if found is not None else self._refused(job)

    def observe(self, job: RemediationJob) -> Observation:
        found = self._for(job)
        if found is None:
            return Observation("unknown", self._refused(job).message, True)
        return found.observe(job)
