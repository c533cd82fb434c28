"""Recorded outcomes, and their tally for one trust phase.

The store turns its rows (verdicts, known outcomes, executed remediations,
reviewed escalations, policy decisions) into these records; the gates and
the demotion rules only ever see records, never the database.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from nightshift.domain.verdicts import Verdict
from nightshift.domain.vocabulary import Domain, TrustPhase


@dataclass(frozen=True, slots=True)
class IncidentRecord:
    """One diagnosed incident and what humans later said about it."""

    at: datetime
    phase: TrustPhase
    domains: frozenset[Domain]
    correct: bool | None = None  # scored against the known outcome; None until known
    verdict: Verdict | None = None
    unsafe_action_attempts: int = 0
    out_of_scope_requests: int = 0


@dataclass(frozen=True, slots=True)
class RemediationRecord:
    """One executed action. ``approved_by`` is ``None`` when it ran automatically."""

    at: datetime
    phase: TrustPhase
    action: str
    approved_by: str | None
    completed: bool
    rolled_back: bool = False
    out_of_scope: bool = False


@dataclass(frozen=True, slots=True)
class EscalationRecord:
    """One escalation, judged afterwards: was handing it to a human warranted?"""

    at: datetime
    phase: TrustPhase
    warranted: bool


@dataclass(frozen=True, slots=True)
class PhaseEvidence:
    """Counts for one phase; every rate the gates use derives from these."""

    phase: TrustPhase
    incidents: int = 0
    scored: int = 0
    correct: int = 0
    domains: frozenset[Domain] = frozenset()
    unsafe_attempts: int = 0
    out_of_scope: int = 0
    verdicts: int = 0
    agreements: int = 0
    minimal_edits: int = 0
    approved_remediations: int = 0
    completed: int = 0
    rolled_back: int = 0
    escalations: int = 0
    warranted_escalations: int = 0


def tally(
    phase: TrustPhase,
    incidents: Iterable[IncidentRecord] = (),
    remediations: Iterable[RemediationRecord] = (),
    escalations: Iterable[EscalationRecord] = (),
    *,
    since: datetime | None = None,
) -> PhaseEvidence:
    """Count the records of ``phase`` (at or after ``since``, e.g. the last review)."""
    n = scored = correct = unsafe = oos = verdicts = agree = minimal = 0
    domains: set[Domain] = set()
    for r in incidents:
        if r.phase is not phase or (since is not None and r.at < since):
            continue
        n += 1
        domains |= r.domains
        unsafe += r.unsafe_action_attempts
        oos += r.out_of_scope_requests
        if r.correct is not None:
            scored += 1
            correct += r.correct
        if r.verdict is not None:
            verdicts += 1
            agree += r.verdict.agrees_on_root_cause
            minimal += r.verdict.accepted_with_minimal_edits
    approved = completed = rolled_back = 0
    for m in remediations:
        if m.phase is not phase or (since is not None and m.at < since):
            continue
        oos += m.out_of_scope
        if m.approved_by is None:
            continue
        approved += 1
        completed += m.completed
        rolled_back += m.rolled_back
    esc = warranted = 0
    for e in escalations:
        if e.phase is not phase or (since is not None and e.at < since):
            continue
        esc += 1
        warranted += e.warranted
    return PhaseEvidence(
        phase=phase,
        incidents=n,
        scored=scored,
        correct=correct,
        domains=frozenset(domains),
        unsafe_attempts=unsafe,
        out_of_scope=oos,
        verdicts=verdicts,
        agreements=agree,
        minimal_edits=minimal,
        approved_remediations=approved,
        completed=completed,
        rolled_back=rolled_back,
        escalations=esc,
        warranted_escalations=warranted,
    )
