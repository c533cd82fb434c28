"""Automatic demotion on the seed rules, and the review that must follow it.

Any one rule firing demotes the agent one phase (shadow stays shadow) and
opens a review hold: re-promotion is blocked until a human (ops lead or
platform owner, not the agent) has reviewed the demotion. Records older than
the window, or older than the last review (``since``), do not count, so a
reviewed incident cannot demote twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from nightshift.domain.agents import AgentIdentity, Principal
from nightshift.domain.vocabulary import PrincipalKind, Role, TrustPhase
from nightshift.governance.evidence import IncidentRecord, RemediationRecord

REVIEWER_ROLES = frozenset({Role.OPS_LEAD, Role.PLATFORM_OWNER})


class DemotionTrigger(StrEnum):
    LOW_ACCURACY = "low_accuracy"
    HIGH_ROLLBACK_RATE = "high_rollback_rate"
    OUT_OF_SCOPE_ACTION = "out_of_scope_action"


class ReviewRefusedError(ValueError):
    """The principal may not review (and so unblock) a demotion."""


@dataclass(frozen=True, slots=True)
class Finding:
    trigger: DemotionTrigger
    value: float
    threshold: float
    message: str


@dataclass(frozen=True, slots=True)
class ReviewHold:
    """Blocks re-promotion until a human reviews the demotion."""

    agent: str
    demoted_at: datetime
    triggers: tuple[DemotionTrigger, ...]
    reviewed_by: str | None = None
    reviewed_at: datetime | None = None

    @property
    def blocking(self) -> bool:
        return self.reviewed_by is None

    def describe(self) -> str:
        why = ", ".join(t.value for t in self.triggers)
        return (
            f"re-promotion blocked: demoted at {self.demoted_at.isoformat()} ({why}); "
            "awaiting human review"
        )


@dataclass(frozen=True, slots=True)
class Demotion:
    agent: str
    from_phase: TrustPhase
    to_phase: TrustPhase
    findings: tuple[Finding, ...]
    at: datetime

    @property
    def hold(self) -> ReviewHold:
        return ReviewHold(self.agent, self.at, tuple(f.trigger for f in self.findings))

    def apply(self, agent: AgentIdentity) -> AgentIdentity:
        return replace(agent, phase=self.to_phase)


def check_demotion(
    agent: AgentIdentity,
    *,
    now: datetime,
    incidents: Iterable[IncidentRecord] = (),
    remediations: Iterable[RemediationRecord] = (),
    out_of_scope_actions: Iterable[datetime] = (),
    since: datetime | None = None,
) -> Demotion | None:
    """A demotion if any seed rule fires within the window, else ``None``.

    ``out_of_scope_actions`` are the times of action requests the policy
    denied as out of scope (from the audit trail); executed remediations
    flagged out of scope count as well.
    """
    th = agent.thresholds.demotion
    start = now - timedelta(days=th.window_days)
    if since is not None and since > start:
        start = since
    scored = correct = 0
    for r in incidents:
        if r.at >= start and r.correct is not None:
            scored += 1
            correct += r.correct
    executed = rolled_back = oos = 0
    for m in remediations:
        if m.at >= start:
            executed += 1
            rolled_back += m.rolled_back
            oos += m.out_of_scope
    oos += sum(1 for t in out_of_scope_actions if t >= start)
    findings: list[Finding] = []
    if scored >= th.min_sample and correct / scored < th.min_accuracy:
        acc = correct / scored
        findings.append(
            Finding(
                DemotionTrigger.LOW_ACCURACY,
                acc,
                th.min_accuracy,
                f"accuracy {acc:.1%} over {th.window_days} days is below {th.min_accuracy:.0%} "
                f"({correct}/{scored} scored incidents correct)",
            )
        )
    if executed >= th.min_sample and rolled_back / executed > th.max_rollback_rate:
        rate = rolled_back / executed
        findings.append(
            Finding(
                DemotionTrigger.HIGH_ROLLBACK_RATE,
                rate,
                th.max_rollback_rate,
                f"rollback rate {rate:.1%} exceeds {th.max_rollback_rate:.0%} "
                f"({rolled_back}/{executed} executed actions rolled back)",
            )
        )
    if oos > th.max_out_of_scope_actions:
        findings.append(
            Finding(
                DemotionTrigger.OUT_OF_SCOPE_ACTION,
                oos,
                th.max_out_of_scope_actions,
                f"{oos} out-of-scope action request(s) within the window",
            )
        )
    if not findings:
        return None
    return Demotion(
        agent=agent.name,
        from_phase=agent.phase,
        to_phase=agent.phase.previous() or TrustPhase.SHADOW,
        findings=tuple(findings),
        at=now,
    )


def review_demotion(hold: ReviewHold, reviewer: Principal, at: datetime) -> ReviewHold:
    """Mark the demotion reviewed, which lifts the block on re-promotion."""
    if reviewer.id == hold.agent:
        raise ReviewRefusedError(f"agent {hold.agent!r} cannot review its own demotion")
    if reviewer.kind is not PrincipalKind.HUMAN or not reviewer.active:
        raise ReviewRefusedError(f"{reviewer.id!r} is not an active human")
    if not reviewer.roles & REVIEWER_ROLES:
        raise ReviewRefusedError(f"{reviewer.id!r} is neither an ops lead nor a platform owner")
    if not hold.blocking:
        raise ReviewRefusedError(f"demotion of {hold.agent!r} was already reviewed")
    return replace(hold, reviewed_by=reviewer.id, reviewed_at=at)
