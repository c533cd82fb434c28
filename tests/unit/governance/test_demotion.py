"""Automatic demotion fires on each seed rule and blocks re-promotion until reviewed."""

from __future__ import annotations

from datetime import timedelta

import pytest

from nightshift.domain.agents import AgentThresholds, DemotionThresholds
from nightshift.domain.vocabulary import Domain, Role, TrustPhase
from nightshift.governance.demotion import (
    DemotionTrigger,
    ReviewRefusedError,
    check_demotion,
    review_demotion,
)
from nightshift.governance.evidence import IncidentRecord, RemediationRecord

from .builders import NOW, agent, human, service

L1 = TrustPhase.AUTONOMOUS_L1


def incidents(correct: int, wrong: int, *, days_ago: int = 1) -> list[IncidentRecord]:
    at = NOW - timedelta(days=days_ago)
    dom = frozenset({Domain.APPLICATION})
    return [IncidentRecord(at, L1, dom, correct=True) for _ in range(correct)] + [
        IncidentRecord(at, L1, dom, correct=False) for _ in range(wrong)
    ]


def executions(total: int, rolled_back: int, *, days_ago: int = 1) -> list[RemediationRecord]:
    at = NOW - timedelta(days=days_ago)
    return [
        RemediationRecord(at, L1, "restart-pod", None, completed=True, rolled_back=i < rolled_back)
        for i in range(total)
    ]


def test_accuracy_below_92_percent_over_30_days_demotes_one_phase() -> None:
    demotion = check_demotion(agent(), now=NOW, incidents=incidents(91, 9))
    assert demotion is not None
    assert [f.trigger for f in demotion.findings] == [DemotionTrigger.LOW_ACCURACY]
    assert demotion.to_phase is TrustPhase.LIMITED_REMEDIATION
    assert demotion.apply(agent()).phase is TrustPhase.LIMITED_REMEDIATION


def test_accuracy_at_92_percent_does_not_demote() -> None:
    assert check_demotion(agent(), now=NOW, incidents=incidents(92, 8)) is None


def test_old_mistakes_outside_the_window_do_not_count() -> None:
    old = incidents(0, 50, days_ago=31)
    assert check_demotion(agent(), now=NOW, incidents=old + incidents(10, 0)) is None


def test_rollback_rate_above_2_percent_demotes() -> None:
    demotion = check_demotion(agent(), now=NOW, remediations=executions(100, 3))
    assert demotion is not None
    assert demotion.findings[0].trigger is DemotionTrigger.HIGH_ROLLBACK_RATE
    assert check_demotion(agent(), now=NOW, remediations=executions(100, 2)) is None


def test_any_out_of_scope_action_demotes() -> None:
    demotion = check_demotion(agent(), now=NOW, out_of_scope_actions=[NOW - timedelta(hours=1)])
    assert demotion is not None
    assert demotion.findings[0].trigger is DemotionTrigger.OUT_OF_SCOPE_ACTION
    flagged = [RemediationRecord(NOW, L1, "restart-pod", "omar", True, out_of_scope=True)]
    assert check_demotion(agent(), now=NOW, remediations=flagged) is not None


def test_several_rules_are_all_reported() -> None:
    demotion = check_demotion(
        agent(),
        now=NOW,
        incidents=incidents(1, 1),
        remediations=executions(10, 5),
        out_of_scope_actions=[NOW],
    )
    assert demotion is not None
    assert {f.trigger for f in demotion.findings} == set(DemotionTrigger)


def test_records_before_the_last_review_do_not_demote_again() -> None:
    assert (
        check_demotion(
            agent(), now=NOW, incidents=incidents(0, 5, days_ago=3), since=NOW - timedelta(days=2)
        )
        is None
    )


def test_demotion_thresholds_are_configurable_per_agent() -> None:
    lenient = AgentThresholds(demotion=DemotionThresholds(min_accuracy=0.5))
    assert check_demotion(agent(thresholds=lenient), now=NOW, incidents=incidents(6, 4)) is None


def test_shadow_agent_stays_in_shadow_but_is_still_held() -> None:
    demotion = check_demotion(agent(phase=TrustPhase.SHADOW), now=NOW, out_of_scope_actions=[NOW])
    assert demotion is not None
    assert demotion.to_phase is TrustPhase.SHADOW
    assert demotion.hold.blocking


def test_demotion_opens_a_hold_that_an_ops_lead_reviews() -> None:
    demotion = check_demotion(agent(), now=NOW, out_of_scope_actions=[NOW])
    assert demotion is not None
    hold = demotion.hold
    assert hold.blocking
    assert "awaiting human review" in hold.describe()
    reviewed = review_demotion(hold, human("lena", Role.OPS_LEAD), NOW)
    assert not reviewed.blocking
    assert reviewed.reviewed_by == "lena"
    with pytest.raises(ReviewRefusedError, match="already reviewed"):
        review_demotion(reviewed, human("piet", Role.PLATFORM_OWNER), NOW)


@pytest.mark.parametrize(
    "reviewer",
    [human("triage", Role.OPS_LEAD), service(), human("omar", Role.OPERATOR)],
)
def test_demotion_review_by_the_agent_a_service_or_an_operator_is_refused(reviewer: object) -> None:
    demotion = check_demotion(agent(), now=NOW, out_of_scope_actions=[NOW])
    assert demotion is not None
    with pytest.raises(ReviewRefusedError):
        review_demotion(demotion.hold, reviewer, NOW)  # type: ignore[arg-type]
