"""A remediator for tests: records every call; symptoms go away when told to."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from nightshift.domain.changes import Change
from nightshift.services.remediation_port import Observation, RemediationJob, StepResult


@dataclass
class FakeRemediator:
    fixes: set[str] = field(default_factory=set)  # actions that clear the symptom
    fail: set[str] = field(default_factory=set)  # actions whose execution fails
    calls: list[tuple[str, str, str]] = field(default_factory=list)  # (step, action, target)
    _fixed: set[str] = field(default_factory=set)

    def dry_run(self, job: RemediationJob) -> StepResult:
        self.calls.append(("dry_run", job.action, str(job.target)))
        return StepResult(job.action not in self.fail, f"{job.action} (dry run)")

    def execute(self, job: RemediationJob) -> StepResult:
        self.calls.append(("execute", job.action, str(job.target)))
        if job.action in self.fail:
            return StepResult(False, f"{job.action} failed")
        if job.action in self.fixes:
            self._fixed.add(job.investigation_id)
        return StepResult(True, f"{job.action} done", (f"{job.action} {job.target}",), {"n": 1})

    def symptoms_present(self, job: RemediationJob) -> bool:
        return job.investigation_id not in self._fixed

    def observe(self, job: RemediationJob) -> Observation:
        self.calls.append(("observe", job.action, str(job.target)))
        ran = ("execute", job.action, str(job.target)) in self.calls
        ok = ran and job.action not in self.fail
        return Observation(
            "in_effect" if ok else "not_in_effect",
            f"{job.action} {'applied' if ok else 'not applied'} to {job.target}",
            self.symptoms_present(job),
        )

    def rollback(self, job: RemediationJob, inverse: str, undo: Mapping[str, Any]) -> StepResult:
        self.calls.append(("rollback", inverse, str(job.target)))
        self._fixed.discard(job.investigation_id)
        return StepResult(True, f"{inverse} done")


@dataclass
class FakeChangeHistory:
    """The change feed for tests: changes by ref, newest last."""

    changes: list[Change] = field(default_factory=list)

    def get(self, ref: str) -> Change | None:
        return next((c for c in self.changes if ref in (c.ref, c.id)), None)

    def latest_for(self, kind: str, name: str, namespace: str) -> Change | None:
        found = [
            c
            for c in self.changes
            if (c.target.kind, c.target.name, c.target.namespace) == (kind, name, namespace)
            and c.before is not None
        ]
        return max(found, key=lambda c: c.at) if found else None
