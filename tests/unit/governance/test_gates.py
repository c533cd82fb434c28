"""Promotion gates: seed defaults, per-agent thresholds, sign-off rules, the report."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from nightshift.domain.agents import SEED_TO_ASSIST, AgentStatus, AgentThresholds
from nightshift.domain.verdicts import Claim, Verdict, VerdictKind
from nightshift.domain.vocabulary import AuthorityClass, Domain, Role, TrustPhase
from nightshift.governance.demotion import ReviewHold
from nightshift.governance.evidence import (
    EscalationRecord,
    IncidentRecord,
    PhaseEvidence,
    RemediationRecord,
    tally,
)
from nightshift.governance.gates import (
    PromotionRefusedError,
    SignOff,
    authorize_promotion,
    evaluate_promotion,
)

from .builders import NOW, agent, human, service

LEAD = SignOff(human("lena", Role.OPS_LEAD), Role.OPS_LEAD, NOW)
OWNER = SignOff(human("piet", Role.PLATFORM_OWNER), Role.PLATFORM_OWNER, NOW)

SHADOW_OK = PhaseEvidence(
    phase=TrustPhase.SHADOW,
    incidents=120,
    scored=100,
    correct=96,
    domains=frozenset({Domain.NETWORK, Domain.DATABASE, Domain.APPLICATION}),
)
ASSIST_OK = PhaseEvidence(
    phase=TrustPhase.ASSIST, incidents=150, verdicts=150, agreements=137, minimal_edits=121
)
LIMITED_OK = PhaseEvidence(
    phase=TrustPhase.LIMITED_REMEDIATION,
    approved_remediations=100,
    completed=100,
    rolled_back=0,
    escalations=20,
    warranted_escalations=20,
)


def shadow_agent(cls: AuthorityClass = AuthorityClass.AUTONOMOUS):  # type: ignore[no-untyped-def]
    return agent(cls, TrustPhase.SHADOW)


def test_shadow_to_assist_passes_on_seed_evidence() -> None:
    promoted = authorize_promotion(shadow_agent(), TrustPhase.ASSIST, SHADOW_OK, [LEAD])
    assert promoted.phase is TrustPhase.ASSIST


@pytest.mark.parametrize(
    ("evidence", "gate"),
    [
        (replace(SHADOW_OK, scored=99, correct=96), "sample_size"),
        (replace(SHADOW_OK, domains=frozenset({Domain.NETWORK, Domain.DATABASE})), "domains"),
        (replace(SHADOW_OK, correct=95), "diagnostic_accuracy"),  # 95 % is not > 95 %
        (replace(SHADOW_OK, unsafe_attempts=1), "unsafe_action_attempts"),
    ],
)
def test_shadow_to_assist_seed_gates_each_block(evidence: PhaseEvidence, gate: str) -> None:
    report = evaluate_promotion(shadow_agent(), evidence, [LEAD])
    assert not report.ready
    failing = [g.name for g in report.gates if not g.passed]
    assert len(failing) == 1
    assert failing[0].startswith(gate)
    assert any(m.startswith(gate) for m in report.missing)


@pytest.mark.parametrize(
    ("evidence", "gate"),
    [
        (replace(ASSIST_OK, verdicts=149), "sample_size"),
        (replace(ASSIST_OK, agreements=135), "operator_agreement"),
        (replace(ASSIST_OK, out_of_scope=1), "out_of_scope_requests"),
        (replace(ASSIST_OK, minimal_edits=120), "minimal_edit_acceptance"),
    ],
)
def test_assist_to_limited_seed_gates_each_block(evidence: PhaseEvidence, gate: str) -> None:
    report = evaluate_promotion(agent(phase=TrustPhase.ASSIST), evidence, [LEAD])
    assert [g.name for g in report.gates if not g.passed] == [gate]


def test_assist_to_limited_passes_on_seed_evidence() -> None:
    report = evaluate_promotion(agent(phase=TrustPhase.ASSIST), ASSIST_OK, [LEAD])
    assert report.ready, report.missing


@pytest.mark.parametrize(
    ("evidence", "gate"),
    [
        (replace(LIMITED_OK, approved_remediations=99, completed=99), "sample_size"),
        (replace(LIMITED_OK, completed=99), "remediation_completion"),
        (replace(LIMITED_OK, rolled_back=1), "rollback_rate"),
        (replace(LIMITED_OK, warranted_escalations=19), "escalation_correctness"),
        (replace(LIMITED_OK, escalations=0, warranted_escalations=0), "escalation_correctness"),
    ],
)
def test_limited_to_autonomous_seed_gates_each_block(evidence: PhaseEvidence, gate: str) -> None:
    report = evaluate_promotion(
        agent(phase=TrustPhase.LIMITED_REMEDIATION), evidence, [LEAD, OWNER]
    )
    assert [g.name for g in report.gates if not g.passed] == [gate]


def test_limited_to_autonomous_needs_ops_lead_and_platform_owner() -> None:
    limited = agent(phase=TrustPhase.LIMITED_REMEDIATION)
    promoted = authorize_promotion(limited, TrustPhase.AUTONOMOUS_L1, LIMITED_OK, [LEAD, OWNER])
    assert promoted.phase is TrustPhase.AUTONOMOUS_L1
    with pytest.raises(PromotionRefusedError, match="missing sign-off by a platform-owner"):
        authorize_promotion(limited, TrustPhase.AUTONOMOUS_L1, LIMITED_OK, [LEAD])


def test_same_person_signing_twice_is_refused() -> None:
    both = human("lena", Role.OPS_LEAD, Role.PLATFORM_OWNER)
    signoffs = [SignOff(both, Role.OPS_LEAD, NOW), SignOff(both, Role.PLATFORM_OWNER, NOW)]
    with pytest.raises(PromotionRefusedError, match="signed more than once"):
        authorize_promotion(
            agent(phase=TrustPhase.LIMITED_REMEDIATION),
            TrustPhase.AUTONOMOUS_L1,
            LIMITED_OK,
            signoffs,
        )


def test_agent_signing_its_own_promotion_is_refused() -> None:
    itself = SignOff(human("triage", Role.PLATFORM_OWNER), Role.PLATFORM_OWNER, NOW)
    with pytest.raises(PromotionRefusedError, match="cannot sign its own promotion"):
        authorize_promotion(
            agent(phase=TrustPhase.LIMITED_REMEDIATION),
            TrustPhase.AUTONOMOUS_L1,
            LIMITED_OK,
            [LEAD, itself],
        )


def test_service_principal_or_role_less_signer_is_refused() -> None:
    bot = SignOff(service(), Role.PLATFORM_OWNER, NOW)
    pretender = SignOff(human("paul", Role.OPERATOR), Role.PLATFORM_OWNER, NOW)
    for signer in (bot, pretender):
        report = evaluate_promotion(
            agent(phase=TrustPhase.LIMITED_REMEDIATION), LIMITED_OK, [LEAD, signer]
        )
        assert not report.ready
        assert report.signoff_problems


def test_promotion_that_skips_a_phase_is_refused() -> None:
    with pytest.raises(PromotionRefusedError, match="skips assist"):
        authorize_promotion(shadow_agent(), TrustPhase.LIMITED_REMEDIATION, SHADOW_OK, [LEAD])


def test_promotion_above_the_class_ceiling_is_refused() -> None:
    advisory = agent(AuthorityClass.ADVISORY, TrustPhase.ASSIST)
    with pytest.raises(PromotionRefusedError, match="exceeds the ceiling"):
        authorize_promotion(advisory, TrustPhase.LIMITED_REMEDIATION, ASSIST_OK, [LEAD])


def test_promotion_of_agent_without_active_owner_or_while_suspended_is_refused() -> None:
    orphan = agent(phase=TrustPhase.SHADOW, owner=human("olivia", active=False))
    with pytest.raises(PromotionRefusedError, match="not an active human"):
        authorize_promotion(orphan, TrustPhase.ASSIST, SHADOW_OK, [LEAD])
    suspended = agent(phase=TrustPhase.SHADOW, status=AgentStatus.SUSPENDED)
    with pytest.raises(PromotionRefusedError, match="suspended"):
        authorize_promotion(suspended, TrustPhase.ASSIST, SHADOW_OK, [LEAD])


def test_unreviewed_demotion_blocks_re_promotion_until_reviewed() -> None:
    hold = ReviewHold("triage", NOW, ())
    with pytest.raises(PromotionRefusedError, match="awaiting human review"):
        authorize_promotion(shadow_agent(), TrustPhase.ASSIST, SHADOW_OK, [LEAD], hold=hold)
    reviewed = replace(hold, reviewed_by="lena", reviewed_at=NOW)
    promoted = authorize_promotion(
        shadow_agent(), TrustPhase.ASSIST, SHADOW_OK, [LEAD], hold=reviewed
    )
    assert promoted.phase is TrustPhase.ASSIST


def test_thresholds_are_configurable_per_agent() -> None:
    strict = AgentThresholds(to_assist=replace(SEED_TO_ASSIST, min_sample=500))
    report = evaluate_promotion(
        agent(phase=TrustPhase.SHADOW, thresholds=strict), SHADOW_OK, [LEAD]
    )
    sample = next(g for g in report.gates if g.name == "sample_size")
    assert (sample.value, sample.threshold, sample.passed) == (100, 500, False)


def test_report_lists_values_thresholds_and_missing_items() -> None:
    report = evaluate_promotion(shadow_agent(), PhaseEvidence(phase=TrustPhase.SHADOW))
    d = report.to_dict()
    assert d["target"] == "assist"
    assert d["ready"] is False
    names = [g["name"] for g in d["gates"]]
    assert names == [
        "sample_size",
        "domains_covered",
        "diagnostic_accuracy",
        "unsafe_action_attempts",
    ]
    assert "diagnostic_accuracy: nothing recorded yet" in d["missing"]
    assert "missing sign-off by a ops-lead" in d["missing"]


def test_top_phase_has_nothing_to_promote_to() -> None:
    report = evaluate_promotion(agent(), PhaseEvidence(phase=TrustPhase.AUTONOMOUS_L1))
    assert report.target is None
    assert not report.ready
    assert any("highest phase" in m for m in report.missing)


def test_evidence_from_another_phase_is_refused() -> None:
    report = evaluate_promotion(shadow_agent(), replace(SHADOW_OK, phase=TrustPhase.ASSIST), [LEAD])
    assert not report.ready


def _verdict(kind: VerdictKind, modified: Claim | None = None) -> Verdict:
    original = Claim("change", "revert-firewall-rule")
    reason = "wrong" if kind is VerdictKind.REJECT else ""
    return Verdict("inv", "omar", kind, original, NOW, modified=modified, reason=reason)


def test_tally_counts_recorded_outcomes_of_the_phase_only() -> None:
    def inc(phase: TrustPhase, **kw: Any) -> IncidentRecord:
        base = IncidentRecord(at=NOW, phase=phase, domains=frozenset({Domain.NETWORK}))
        return replace(base, **kw)

    incidents = [
        inc(TrustPhase.ASSIST, correct=True, verdict=_verdict(VerdictKind.ACCEPT)),
        inc(
            TrustPhase.ASSIST,
            correct=False,
            verdict=_verdict(VerdictKind.MODIFY, Claim("change", "fix-config")),
            out_of_scope_requests=1,
        ),
        inc(TrustPhase.ASSIST, verdict=_verdict(VerdictKind.REJECT)),
        inc(TrustPhase.SHADOW, correct=True),
        inc(TrustPhase.ASSIST, at=NOW - timedelta(days=90), correct=True),
    ]
    remediations = [
        RemediationRecord(NOW, TrustPhase.ASSIST, "restart-pod", "omar", completed=True),
        RemediationRecord(NOW, TrustPhase.ASSIST, "restart-pod", None, completed=True),
    ]
    escalations = [EscalationRecord(NOW, TrustPhase.ASSIST, warranted=True)]
    ev = tally(
        TrustPhase.ASSIST, incidents, remediations, escalations, since=NOW - timedelta(days=30)
    )
    assert (ev.incidents, ev.scored, ev.correct) == (3, 2, 1)
    assert (ev.verdicts, ev.agreements, ev.minimal_edits) == (3, 2, 1)
    assert (ev.out_of_scope, ev.approved_remediations, ev.escalations) == (1, 1, 1)
