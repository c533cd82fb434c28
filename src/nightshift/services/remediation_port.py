"""The Remediator port: how the control plane changes the world (adapters in runtime/remediation).

Execution happens in the control plane with its own identity, never in the
agent worker. A remediator previews (dry-run), executes, answers whether the
symptoms are still present (verification) and undoes an action through the
catalog's inverse. It never decides anything: policy did that already.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

from nightshift.domain.changes import Change
from nightshift.domain.diagnosis import ResourceRef
from nightshift.sources.config import SourceConfig, SourceKind


@dataclass(frozen=True, slots=True)
class RemediationJob:
    """One action to run for one investigation, on the world its evidence came from.

    ``sources`` are the investigation's evidence sources: a remediator acts only on
    a world it was declared for (the cluster of a kubernetes source, the scenario of
    the simulated one). ``agent`` and ``trust_phase`` say whose identity acts.
    """

    investigation_id: str
    action: str
    target: ResourceRef
    params: Mapping[str, Any] = field(default_factory=dict)
    sources: tuple[SourceConfig, ...] = ()
    agent: str = ""
    trust_phase: str = ""
    # When the control plane claimed the job: what changed after it is this job's doing.
    claimed_at: datetime | None = None
    # Who is accountable, for records outside the audit trail (a GitOps commit):
    # the agent's owner, the approver, the policy's decision, the proposal it ran for.
    owner: str = ""
    approved_by: str = ""
    decision: str = ""
    proposal_id: str = ""

    def source_of(self, kind: SourceKind) -> SourceConfig | None:
        return next((s for s in self.sources if s.kind is kind), None)


@dataclass(frozen=True, slots=True)
class StepResult:
    """The outcome of one step; ``undo`` holds the parameters the inverse needs."""

    ok: bool
    message: str
    changes: tuple[str, ...] = ()
    undo: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "message": self.message,
            "changes": list(self.changes),
            "undo": dict(self.undo),
        }


Effect = Literal["in_effect", "not_in_effect", "unknown"]


@dataclass(frozen=True, slots=True)
class Observation:
    """What the target looks like now, for an execution nobody saw finish.

    ``effect`` answers "did the action take effect?" from the target's state
    (never from a record of having sent it); ``unknown`` when the state cannot
    tell (the target is gone, the action leaves no mark). ``detail`` is what was
    read, for the human who must check.
    """

    effect: Effect
    detail: str
    symptoms_present: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "effect": self.effect,
            "detail": self.detail,
            "symptoms_present": self.symptoms_present,
        }


class Remediator(Protocol):
    def dry_run(self, job: RemediationJob) -> StepResult: ...

    def execute(self, job: RemediationJob) -> StepResult: ...

    def symptoms_present(self, job: RemediationJob) -> bool:
        """Verification: are the incident's symptoms still there (after the action)?"""
        ...

    def rollback(self, job: RemediationJob, inverse: str, undo: Mapping[str, Any]) -> StepResult:
        """Run ``inverse`` (the catalog's inverse action) with the recorded ``undo`` params."""
        ...

    def observe(self, job: RemediationJob) -> Observation:
        """After a crash mid-execution: did ``job`` take effect? Reads the target only."""
        ...


class ChangeHistory(Protocol):
    """Where ``revert-change`` reads what a change replaced (the change feed's ``before``).

    The control plane's own record, never the agent's words: a proposal names the
    change; the state it restores comes from here.
    """

    def get(self, ref: str) -> Change | None:
        """One change by its sender's id (``FW-3141``) or its stored id."""
        ...

    def latest_for(self, kind: str, name: str, namespace: str) -> Change | None:
        """The newest change to that object that recorded its state before."""
        ...
