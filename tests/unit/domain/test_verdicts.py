"""Verdicts: minimal-edit classification, agreement, and scoring against known outcomes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from nightshift.domain.diagnosis import ResourceRef, RootCause
from nightshift.domain.verdicts import (
    Claim,
    EditClass,
    KnownOutcome,
    Verdict,
    VerdictError,
    VerdictKind,
    classify_edit,
)

AT = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)
ORIGINAL = Claim("change", "revert-firewall-rule", "firewall-rule-change")


def verdict(kind: VerdictKind, modified: Claim | None = None, reason: str = "") -> Verdict:
    return Verdict("inv-1", "omar", kind, ORIGINAL, AT, modified=modified, reason=reason)


def test_modification_keeping_category_and_remediation_class_is_minimal() -> None:
    reworded = Claim("change", "revert-firewall-rule", "firewall-rule-change")
    assert classify_edit(ORIGINAL, reworded) is EditClass.MINIMAL
    v = verdict(VerdictKind.MODIFY, reworded)
    assert v.edit is EditClass.MINIMAL
    assert v.accepted_with_minimal_edits
    assert v.agrees_on_root_cause


def test_changing_the_remediation_class_is_substantive_but_still_agrees_on_root_cause() -> None:
    v = verdict(VerdictKind.MODIFY, Claim("change", "rollback-change"))
    assert v.edit is EditClass.SUBSTANTIVE
    assert v.agrees_on_root_cause
    assert not v.accepted_with_minimal_edits


def test_changing_the_category_disagrees() -> None:
    v = verdict(VerdictKind.MODIFY, Claim("database", "tune-connection-pool"))
    assert v.edit is EditClass.SUBSTANTIVE
    assert not v.agrees_on_root_cause


def test_accept_and_reject() -> None:
    assert verdict(VerdictKind.ACCEPT).edit is EditClass.NONE
    rejected = verdict(VerdictKind.REJECT, reason="it was DNS")
    assert rejected.edit is EditClass.REJECTED
    assert rejected.final is None
    assert not rejected.agrees_on_root_cause


@pytest.mark.parametrize(
    ("kind", "modified", "reason"),
    [
        (VerdictKind.MODIFY, None, ""),
        (VerdictKind.ACCEPT, ORIGINAL, ""),
        (VerdictKind.REJECT, None, "  "),
    ],
)
def test_inconsistent_verdicts_are_refused(
    kind: VerdictKind, modified: Claim | None, reason: str
) -> None:
    with pytest.raises(VerdictError):
        verdict(kind, modified, reason)


def test_claim_from_a_root_cause() -> None:
    rc = RootCause(
        1,
        ResourceRef("deployment", "api", "shop"),
        "oom-killed",
        "runtime",
        "",
        0.9,
        (),
        "add-resources",
    )
    assert Claim.of(rc) == Claim("runtime", "add-resources", "oom-killed")


def test_known_outcome_scores_category_and_fault_when_both_named() -> None:
    outcome = KnownOutcome("inv-1", ORIGINAL, "postmortem-lead", AT)
    assert outcome.scores(ORIGINAL)
    assert outcome.scores(Claim("change", "rollback-change"))
    assert not outcome.scores(Claim("change", "revert-firewall-rule", "bad-deploy"))
    assert not outcome.scores(Claim("network", "revert-firewall-rule"))
    with pytest.raises(VerdictError):
        KnownOutcome("inv-1", ORIGINAL, " ", AT)
