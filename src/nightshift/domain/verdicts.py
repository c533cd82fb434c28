"""Operator verdicts on diagnoses, and the known outcome they are scored against.

A modification is a *minimal edit* when the root-cause category and the
remediation class survive it (only wording, order or supporting evidence
changed). Verdicts and known outcomes are the raw material of the phase
gates: operator agreement, minimal-edit acceptance, diagnostic accuracy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from nightshift.domain.diagnosis import RootCause


class VerdictError(ValueError):
    """A verdict or outcome is inconsistent; the message says which rule it breaks."""


class VerdictKind(StrEnum):
    ACCEPT = "accept"
    REJECT = "reject"
    MODIFY = "modify"


class EditClass(StrEnum):
    """How far an operator moved the diagnosis."""

    NONE = "none"  # accepted as is
    MINIMAL = "minimal"  # same root-cause category and remediation class
    SUBSTANTIVE = "substantive"  # category or remediation class changed
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class Claim:
    """The two facts of a diagnosis that the gates compare."""

    category: str
    remediation_class: str
    fault: str | None = None

    @classmethod
    def of(cls, root_cause: RootCause) -> Claim:
        return cls(root_cause.category, root_cause.remediation_class, root_cause.fault)


def classify_edit(original: Claim, modified: Claim) -> EditClass:
    if (
        original.category == modified.category
        and original.remediation_class == modified.remediation_class
    ):
        return EditClass.MINIMAL
    return EditClass.SUBSTANTIVE


@dataclass(frozen=True, slots=True)
class Verdict:
    investigation_id: str
    operator_id: str
    kind: VerdictKind
    original: Claim
    at: datetime
    modified: Claim | None = None
    reason: str = ""

    def __post_init__(self) -> None:
        if self.kind is VerdictKind.MODIFY and self.modified is None:
            raise VerdictError("a modify verdict carries the modified diagnosis")
        if self.kind is not VerdictKind.MODIFY and self.modified is not None:
            raise VerdictError(f"a {self.kind.value} verdict carries no modified diagnosis")
        if self.kind is VerdictKind.REJECT and not self.reason.strip():
            raise VerdictError("a reject verdict needs a reason")
        if self.at.tzinfo is None:
            raise VerdictError("verdict time must be timezone-aware")

    @property
    def edit(self) -> EditClass:
        if self.kind is VerdictKind.ACCEPT:
            return EditClass.NONE
        if self.kind is VerdictKind.REJECT or self.modified is None:
            return EditClass.REJECTED
        return classify_edit(self.original, self.modified)

    @property
    def agrees_on_root_cause(self) -> bool:
        """Operator agreement: the operator kept the agent's root-cause category."""
        if self.kind is VerdictKind.ACCEPT:
            return True
        return self.modified is not None and self.modified.category == self.original.category

    @property
    def accepted_with_minimal_edits(self) -> bool:
        return self.edit in (EditClass.NONE, EditClass.MINIMAL)

    @property
    def final(self) -> Claim | None:
        """The diagnosis as the operator left it; ``None`` when rejected."""
        if self.kind is VerdictKind.REJECT:
            return None
        return self.modified or self.original


@dataclass(frozen=True, slots=True)
class KnownOutcome:
    """The root cause established afterwards (postmortem), by a human."""

    investigation_id: str
    actual: Claim
    recorded_by: str
    at: datetime

    def __post_init__(self) -> None:
        if not self.recorded_by.strip():
            raise VerdictError("a known outcome names who recorded it")
        if self.at.tzinfo is None:
            raise VerdictError("outcome time must be timezone-aware")

    def scores(self, claim: Claim) -> bool:
        """A diagnosis is correct when it names the actual root-cause category
        (and the actual fault, when both sides name one)."""
        if claim.category != self.actual.category:
            return False
        return claim.fault is None or self.actual.fault is None or claim.fault == self.actual.fault
