"""Remediation on the simulated incident world (the embedded default).

One world per investigation, kept in memory so execution, verification and
rollback all see the same state. That state lives in this control-plane
process only: a restart (or another replica) starts again from the scenario.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from nightshift.scenarios import ScenarioError, SimulatedWorld, load_installed
from nightshift.services.remediation_port import Observation, RemediationJob, StepResult
from nightshift.sources.config import SourceKind


class NoWorldError(LookupError):
    pass


class SimulatedRemediator:
    def __init__(self) -> None:
        self._worlds: dict[str, SimulatedWorld] = {}
        # (investigation, action, target) applied to a world of this process.
        self._applied: set[tuple[str, str, str]] = set()
        self._lock = threading.Lock()

    def world(self, job: RemediationJob) -> SimulatedWorld:
        with self._lock:
            found = self._worlds.get(job.investigation_id)
            if found is None:
                source = job.source_of(SourceKind.SIMULATED)
                scenario = source.setting("scenario") if source is not None else None
                if not isinstance(scenario, str) or not scenario:
                    raise NoWorldError(
                        "the simulated world can only act on scenario investigations"
                    )
                try:
                    found = SimulatedWorld(load_installed(scenario))
                except ScenarioError as exc:
                    raise NoWorldError(str(exc)) from exc
                self._worlds[job.investigation_id] = found
            return found

    def forget(self, investigation_id: str) -> None:
        with self._lock:
            self._worlds.pop(investigation_id, None)

    def dry_run(self, job: RemediationJob) -> StepResult:
        return self._apply(job, job.action, job.params, dry_run=True)

    def execute(self, job: RemediationJob) -> StepResult:
        undo = self._undo_params(job)
        result = self._apply(job, job.action, job.params, dry_run=False)
        if result.ok:
            with self._lock:
                self._applied.add(_key(job))
        return StepResult(result.ok, result.message, result.changes, undo if result.ok else {})

    def symptoms_present(self, job: RemediationJob) -> bool:
        try:
            return self.world(job).symptoms_present()
        except NoWorldError:
            return True  # nothing we can observe: never claim the symptom is gone

    def observe(self, job: RemediationJob) -> Observation:
        with self._lock:
            known = job.investigation_id in self._worlds
            applied = _key(job) in self._applied
        symptoms = self.symptoms_present(job)
        if not known:
            # The world lives in this process only: one that died took the action's
            # effect with it, and the world starts again from its scenario.
            return Observation(
                "not_in_effect",
                "the simulated world restarted from its scenario with the control plane: "
                f"no {job.action} on {job.target} is in effect",
                symptoms,
            )
        if applied:
            return Observation("in_effect", f"{job.action} on {job.target} was applied", symptoms)
        return Observation(
            "not_in_effect", f"the simulated world saw no {job.action} on {job.target}", symptoms
        )

    def rollback(self, job: RemediationJob, inverse: str, undo: Mapping[str, Any]) -> StepResult:
        params = {**job.params, **undo}
        step = self._apply(job, inverse, params, dry_run=False)
        if step.ok:  # undone: observe reports the action no longer in effect
            with self._lock:
                self._applied.discard(_key(job))
        return step

    def _apply(
        self, job: RemediationJob, action: str, params: Mapping[str, Any], *, dry_run: bool
    ) -> StepResult:
        try:
            world = self.world(job)
        except NoWorldError as exc:
            return StepResult(False, str(exc))
        outcome = world.apply_action(action, job.target, dict(params), dry_run=dry_run)
        # Only what kubectl would print is kept; ActionOutcome.fixes_root_cause is the
        # scenario's answer key and must never be read here.
        return StepResult(outcome.ok, outcome.message, outcome.changes)

    def _undo_params(self, job: RemediationJob) -> dict[str, Any]:
        """What the inverse needs to restore the state before this action."""
        if job.action != "scale-deployment":
            return {}
        try:
            world = self.world(job)
        except NoWorldError:
            return {}
        for w in world.state.deployments:
            if w.name == job.target.name and job.target.namespace in (None, w.namespace):
                return {"replicas": w.replicas}
        return {}


def _key(job: RemediationJob) -> tuple[str, str, str]:
    return (job.investigation_id, job.action, str(job.target))
