"""The phase x class permission matrix and who may approve."""

from __future__ import annotations

import pytest

from nightshift.domain.agents import class_ceiling
from nightshift.domain.vocabulary import AuthorityClass, Role, TrustPhase
from nightshift.governance.decisions import ReasonCode
from nightshift.governance.permissions import (
    MATRIX,
    ActionMode,
    action_mode,
    cell,
    may_approve,
    output_visible,
)

from .builders import CATALOG, agent, human, service


@pytest.mark.parametrize("cls", list(AuthorityClass))
@pytest.mark.parametrize("phase", list(TrustPhase))
def test_phase_never_exceeds_the_class_ceiling(cls: AuthorityClass, phase: TrustPhase) -> None:
    exists = cell(cls, phase) is not None
    assert exists == (phase.rank <= class_ceiling(cls).rank)


def test_class_ceilings() -> None:
    assert class_ceiling(AuthorityClass.ADVISORY) is TrustPhase.ASSIST
    assert class_ceiling(AuthorityClass.SUPERVISED) is TrustPhase.LIMITED_REMEDIATION
    assert class_ceiling(AuthorityClass.AUTONOMOUS) is TrustPhase.AUTONOMOUS_L1


def test_advisory_cells_never_execute() -> None:
    modes = {c.action_mode for (cls, _), c in MATRIX.items() if cls is AuthorityClass.ADVISORY}
    assert modes <= {ActionMode.RECORD_ONLY, ActionMode.RECOMMEND}


def test_supervised_cells_never_auto_execute() -> None:
    modes = {c.action_mode for (cls, _), c in MATRIX.items() if cls is AuthorityClass.SUPERVISED}
    assert ActionMode.AUTO not in modes


@pytest.mark.parametrize(
    ("phase", "mode"),
    [
        (TrustPhase.SHADOW, ActionMode.RECORD_ONLY),
        (TrustPhase.ASSIST, ActionMode.RECOMMEND),
        (TrustPhase.LIMITED_REMEDIATION, ActionMode.APPROVAL),
        (TrustPhase.AUTONOMOUS_L1, ActionMode.AUTO),
    ],
)
def test_autonomous_class_follows_the_phase(phase: TrustPhase, mode: ActionMode) -> None:
    c = cell(AuthorityClass.AUTONOMOUS, phase)
    assert c is not None
    assert c.action_mode is mode


def test_shadow_output_is_hidden_until_reviewed() -> None:
    c = cell(AuthorityClass.AUTONOMOUS, TrustPhase.SHADOW)
    assert c is not None
    assert not c.output_visible
    assert not c.proposes_to_operators
    assert not output_visible(TrustPhase.SHADOW, reviewed=False)
    assert output_visible(TrustPhase.SHADOW, reviewed=True)
    assert output_visible(TrustPhase.ASSIST, reviewed=False)


def test_action_without_auto_column_is_approval_even_in_autonomous_l1() -> None:
    spec = CATALOG.get("cordon-node")
    assert spec is not None
    assert action_mode(agent(), spec) is ActionMode.APPROVAL


def test_operator_may_approve() -> None:
    assert may_approve(human("omar", Role.OPERATOR), agent()).allowed


@pytest.mark.parametrize(
    ("approver", "reason"),
    [
        (human("triage", Role.OPERATOR), ReasonCode.APPROVER_IS_AGENT),
        (service(), ReasonCode.APPROVER_NOT_HUMAN),
        (human("omar", Role.OPERATOR, active=False), ReasonCode.APPROVER_INACTIVE),
        (human("vic", Role.VIEWER), ReasonCode.APPROVER_LACKS_ROLE),
    ],
)
def test_limited_remediation_approval_needs_a_human_operator_who_is_not_the_agent(
    approver: object, reason: ReasonCode
) -> None:
    decision = may_approve(approver, agent())  # type: ignore[arg-type]
    assert not decision.allowed
    assert decision.reason is reason
