"""The policy decision point, rule by rule (issue 4 and 5 acceptance rules)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from nightshift.domain.actions import ActionProposal
from nightshift.domain.agents import AgentIdentity, AgentStatus, AgentThresholds
from nightshift.domain.vocabulary import AuthorityClass, Domain, TrustPhase
from nightshift.governance.containment import KillSwitch
from nightshift.governance.decisions import Decision, FollowUp, Outcome, ReasonCode
from nightshift.governance.policy import (
    ActionRequest,
    DelegationRequest,
    PolicyContext,
    SelfModificationRequest,
    ToolRequest,
    bind,
    decide,
    request_to_dict,
)

from .builders import CATALOG, agent, context, human, proposal, service, wide_boundaries

ALL_ACTIONS = sorted(a.name for a in CATALOG)
READ = ToolRequest(tool="kubectl_get", domain=Domain.KUBERNETES, namespace="shop")


def _act(identity: AgentIdentity, p: ActionProposal | None = None) -> Decision:
    return decide(identity, ActionRequest(p or proposal()), context(identity))


@pytest.mark.parametrize("phase", list(TrustPhase))
@pytest.mark.parametrize("confidence", [0.0, 0.5, 0.99, 1.0])
def test_advisory_agent_restart_proposal_is_never_executed_in_any_phase(
    phase: TrustPhase, confidence: float
) -> None:
    identity = agent(AuthorityClass.ADVISORY, phase)
    decision = _act(identity, proposal("restart-pod", confidence=confidence))
    assert decision.outcome is Outcome.DENY
    assert not decision.allowed


@pytest.mark.parametrize("phase", list(TrustPhase))
@pytest.mark.parametrize("action", ALL_ACTIONS)
def test_advisory_agent_never_auto_executes_or_requests_execution(
    phase: TrustPhase, action: str
) -> None:
    decision = _act(agent(AuthorityClass.ADVISORY, phase), proposal(action, confidence=1.0))
    assert decision.outcome is Outcome.DENY


def test_advisory_agent_in_assist_gets_a_visible_recommendation() -> None:
    decision = _act(agent(AuthorityClass.ADVISORY, TrustPhase.ASSIST))
    assert decision.reason is ReasonCode.RECOMMENDATION_ONLY
    assert decision.visible_to_operators


def test_advisory_agent_above_its_ceiling_is_refused_outright() -> None:
    decision = _act(agent(AuthorityClass.ADVISORY, TrustPhase.AUTONOMOUS_L1))
    assert decision.reason is ReasonCode.PHASE_ABOVE_CLASS_CEILING


@pytest.mark.parametrize("action", ALL_ACTIONS)
def test_supervised_agent_executes_only_after_human_approval(action: str) -> None:
    identity = agent(AuthorityClass.SUPERVISED, TrustPhase.LIMITED_REMEDIATION)
    decision = _act(identity, proposal(action, confidence=1.0))
    assert decision.outcome is Outcome.NEEDS_APPROVAL
    assert decision.reason is ReasonCode.APPROVAL_REQUIRED


@pytest.mark.parametrize(
    "cls", [AuthorityClass.SUPERVISED, AuthorityClass.AUTONOMOUS, AuthorityClass.SELF_MODIFYING]
)
def test_limited_remediation_needs_explicit_approval_even_at_full_confidence(
    cls: AuthorityClass,
) -> None:
    decision = _act(agent(cls, TrustPhase.LIMITED_REMEDIATION), proposal(confidence=1.0))
    assert decision.outcome is Outcome.NEEDS_APPROVAL


def test_autonomous_l1_auto_executes_in_scope_at_or_above_threshold() -> None:
    identity = agent(thresholds=AgentThresholds(auto_execute_confidence=0.8))
    at = _act(identity, proposal(confidence=0.8))
    above = _act(identity, proposal(confidence=0.97))
    assert at.outcome is Outcome.ALLOW
    assert at.reason is ReasonCode.AUTO_EXECUTE
    assert above.outcome is Outcome.ALLOW


def test_autonomous_l1_below_threshold_escalates_instead_of_executing() -> None:
    identity = agent(thresholds=AgentThresholds(auto_execute_confidence=0.8))
    decision = _act(identity, proposal(confidence=0.79))
    assert decision.outcome is Outcome.NEEDS_APPROVAL
    assert decision.reason is ReasonCode.ESCALATE_LOW_CONFIDENCE
    assert decision.follow_up is FollowUp.ESCALATE


@pytest.mark.parametrize("action", ["cordon-node", "revert-firewall-rule"])
def test_autonomous_l1_high_risk_actions_without_auto_column_still_need_approval(
    action: str,
) -> None:
    decision = _act(agent(), proposal(action, namespace=None, kind="node", confidence=1.0))
    assert decision.outcome is Outcome.NEEDS_APPROVAL
    assert decision.reason is ReasonCode.APPROVAL_REQUIRED


def test_autonomous_l1_out_of_scope_namespace_is_denied_and_raises_review() -> None:
    decision = _act(agent(), proposal(namespace="payments", confidence=1.0))
    assert decision.outcome is Outcome.DENY
    assert decision.reason is ReasonCode.OUT_OF_SCOPE
    assert decision.human_review
    assert "widen scope" in decision.message


def test_action_type_outside_boundary_is_out_of_scope() -> None:
    identity = agent(boundaries=wide_boundaries(action_types=frozenset({"clear-cache"})))
    decision = _act(identity, proposal("restart-pod"))
    assert decision.reason is ReasonCode.OUT_OF_SCOPE
    assert decision.follow_up is FollowUp.HUMAN_REVIEW


def test_action_in_a_domain_outside_boundary_is_out_of_scope() -> None:
    identity = agent(boundaries=wide_boundaries(domains=frozenset({Domain.KUBERNETES})))
    decision = _act(identity, proposal("revert-firewall-rule", namespace=None, kind="rule"))
    assert decision.reason is ReasonCode.OUT_OF_SCOPE
    assert "network" in decision.message


def test_tool_read_outside_domain_or_namespace_is_out_of_scope() -> None:
    identity = agent(boundaries=wide_boundaries(domains=frozenset({Domain.KUBERNETES})))
    ctx = context(identity)
    other_domain = ToolRequest(tool="db_stats", domain=Domain.DATABASE)
    other_ns = ToolRequest(tool="kubectl_get", domain=Domain.KUBERNETES, namespace="payments")
    all_ns = ToolRequest(tool="kubectl_get", domain=Domain.KUBERNETES, namespace="*")
    for request in (other_domain, other_ns, all_ns):
        decision = decide(identity, request, ctx)
        assert decision.reason is ReasonCode.OUT_OF_SCOPE
        assert decision.human_review


def test_in_scope_read_is_allowed() -> None:
    identity = agent(AuthorityClass.ADVISORY, TrustPhase.ASSIST)
    decision = decide(identity, READ, context(identity))
    assert decision.allowed
    assert decision.reason is ReasonCode.ALLOWED


def test_unknown_tool_and_write_tool_are_denied_by_default() -> None:
    identity = agent()
    ctx = context(identity)
    unknown = decide(identity, ToolRequest(tool="rm_rf", domain=None), ctx)
    write = decide(
        identity, ToolRequest(tool="kubectl_apply", domain=Domain.KUBERNETES, read_only=False), ctx
    )
    assert unknown.reason is ReasonCode.UNKNOWN_TOOL
    assert write.reason is ReasonCode.WRITE_TOOL_DENIED


def test_unknown_action_and_unrecognised_request_are_denied() -> None:
    identity = agent()
    assert _act(identity, proposal("delete-namespace")).reason is ReasonCode.UNKNOWN_ACTION
    odd = decide(identity, object(), context(identity))  # type: ignore[arg-type]
    assert odd.outcome is Outcome.DENY
    assert odd.reason is ReasonCode.UNKNOWN_REQUEST


@pytest.mark.parametrize("confidence", [-0.1, 1.5, float("nan")])
def test_confidence_outside_unit_interval_is_invalid(confidence: float) -> None:
    assert _act(agent(), proposal(confidence=confidence)).reason is ReasonCode.INVALID_REQUEST


@pytest.mark.parametrize("cls", list(AuthorityClass))
def test_shadow_actions_are_never_proposed_to_operators(cls: AuthorityClass) -> None:
    decision = _act(agent(cls, TrustPhase.SHADOW), proposal(confidence=1.0))
    assert decision.outcome is Outcome.DENY
    assert decision.reason is ReasonCode.SHADOW_RECORD_ONLY
    assert not decision.visible_to_operators


def test_shadow_reads_run_on_real_data_but_output_is_hidden() -> None:
    identity = agent(AuthorityClass.AUTONOMOUS, TrustPhase.SHADOW)
    decision = decide(identity, READ, context(identity))
    assert decision.allowed
    assert not decision.visible_to_operators


@pytest.mark.parametrize("cls", list(AuthorityClass))
def test_assist_is_recommendation_only(cls: AuthorityClass) -> None:
    decision = _act(agent(cls, TrustPhase.ASSIST), proposal(confidence=1.0))
    assert decision.outcome is Outcome.DENY
    assert decision.reason is ReasonCode.RECOMMENDATION_ONLY
    assert decision.visible_to_operators


def test_advisory_cannot_even_recommend_an_action_reserved_for_supervised() -> None:
    identity = agent(AuthorityClass.ADVISORY, TrustPhase.ASSIST)
    decision = _act(identity, proposal("cordon-node", namespace=None, kind="node"))
    assert decision.reason is ReasonCode.CLASS_INSUFFICIENT


def test_dry_run_is_allowed_where_supported_once_execution_is_possible() -> None:
    identity = agent(AuthorityClass.SUPERVISED, TrustPhase.LIMITED_REMEDIATION)
    assert _act(identity, proposal(dry_run=True)).reason is ReasonCode.DRY_RUN_ALLOWED
    no_dry = _act(identity, proposal("clear-cache", kind="deployment", dry_run=True))
    assert no_dry.reason is ReasonCode.DRY_RUN_UNSUPPORTED
    assist = agent(AuthorityClass.SUPERVISED, TrustPhase.ASSIST)
    assert _act(assist, proposal(dry_run=True)).reason is ReasonCode.RECOMMENDATION_ONLY


CHANGE = SelfModificationRequest(parameter="auto_execute_confidence", value="0.5")


@pytest.mark.parametrize(
    "cls", [AuthorityClass.ADVISORY, AuthorityClass.SUPERVISED, AuthorityClass.AUTONOMOUS]
)
def test_changing_own_parameters_is_refused_unless_self_modifying(cls: AuthorityClass) -> None:
    identity = agent(cls, TrustPhase.ASSIST)
    decision = decide(identity, CHANGE, context(identity))
    assert decision.outcome is Outcome.DENY
    assert decision.reason is ReasonCode.SELF_MODIFICATION_NOT_PERMITTED


@pytest.mark.parametrize(
    "phase", [TrustPhase.ASSIST, TrustPhase.LIMITED_REMEDIATION, TrustPhase.AUTONOMOUS_L1]
)
def test_self_modifying_agent_changes_own_parameters_only_with_approval(
    phase: TrustPhase,
) -> None:
    identity = agent(AuthorityClass.SELF_MODIFYING, phase)
    decision = decide(identity, CHANGE, context(identity))
    assert decision.outcome is Outcome.NEEDS_APPROVAL
    assert decision.reason is ReasonCode.SELF_MODIFICATION_REQUIRES_APPROVAL


def test_suspended_agent_may_not_act_or_read() -> None:
    identity = agent(status=AgentStatus.SUSPENDED, suspended_reason="incident review")
    for request in (READ, ActionRequest(proposal())):
        decision = decide(identity, request, context(identity))
        assert decision.reason is ReasonCode.AGENT_SUSPENDED
        assert decision.stops_chain


def test_agent_whose_owner_is_inactive_may_not_act() -> None:
    identity = agent(owner=human("olivia", active=False))
    decision = _act(identity, proposal(confidence=1.0))
    assert decision.outcome is Outcome.DENY
    assert decision.reason is ReasonCode.OWNER_INACTIVE


def test_agent_owned_by_a_service_principal_may_not_act() -> None:
    identity = agent(owner=service())
    assert _act(identity).reason is ReasonCode.OWNER_NOT_HUMAN


def test_global_kill_switch_stops_everything() -> None:
    identity = agent()
    ks = KillSwitch(global_engaged=True, reason="incident 42")
    for request in (READ, ActionRequest(proposal())):
        decision = decide(identity, request, context(identity, kill_switch=ks))
        assert decision.reason is ReasonCode.KILL_SWITCH_GLOBAL
        assert decision.stops_chain


def test_per_agent_kill_switch_stops_only_that_agent() -> None:
    ks = KillSwitch(agents=frozenset({"triage"}))
    stopped, other = agent(), agent(name="netdiag")
    assert decide(stopped, READ, context(stopped, kill_switch=ks)).reason is (
        ReasonCode.KILL_SWITCH_AGENT
    )
    assert decide(other, READ, context(other, kill_switch=ks)).allowed


def test_same_access_different_class_gives_different_decisions() -> None:
    decisions = {
        cls: _act(
            agent(
                cls,
                TrustPhase.ASSIST
                if cls is AuthorityClass.ADVISORY
                else TrustPhase.LIMITED_REMEDIATION,
            ),
            proposal(confidence=1.0),
        ).outcome
        for cls in (AuthorityClass.ADVISORY, AuthorityClass.SUPERVISED)
    }
    assert decisions[AuthorityClass.ADVISORY] is Outcome.DENY
    assert decisions[AuthorityClass.SUPERVISED] is Outcome.NEEDS_APPROVAL


def test_bound_decide_reads_context_fresh_on_each_call() -> None:
    identity = agent()
    switch = {"on": False}

    def ctx() -> PolicyContext:
        return context(identity, kill_switch=KillSwitch(global_engaged=switch["on"]))

    bound = bind(identity, ctx)
    assert bound(READ).allowed
    switch["on"] = True
    assert bound(READ).reason is ReasonCode.KILL_SWITCH_GLOBAL


def test_decision_serialises_to_machine_readable_dict() -> None:
    d = _act(agent(), proposal(namespace="payments")).to_dict()
    assert d["outcome"] == "deny"
    assert d["reason"] == "out_of_scope"
    assert d["follow_up"] == "human_review"


def test_rate_limit_per_minute_is_a_breaker() -> None:
    identity = agent(boundaries=wide_boundaries(max_calls_per_minute=10))
    assert decide(identity, READ, context(identity, calls_last_minute=9)).allowed
    limited = decide(identity, READ, context(identity, calls_last_minute=10))
    assert limited.reason is ReasonCode.RATE_LIMITED


def test_replacing_phase_keeps_decisions_data_driven() -> None:
    identity = agent(AuthorityClass.AUTONOMOUS, TrustPhase.LIMITED_REMEDIATION)
    promoted = replace(identity, phase=TrustPhase.AUTONOMOUS_L1)
    assert _act(identity).outcome is Outcome.NEEDS_APPROVAL
    assert _act(promoted).outcome is Outcome.ALLOW


def test_request_to_dict_covers_every_request_kind() -> None:
    kinds = [
        request_to_dict(READ)["kind"],
        request_to_dict(ActionRequest(proposal()))["kind"],
        request_to_dict(DelegationRequest(child="b"))["kind"],
        request_to_dict(CHANGE)["kind"],
    ]
    assert kinds == ["tool", "action", "delegation", "self_modification"]


def test_operator_modified_target_is_checked_by_the_same_decision() -> None:
    identity = agent(AuthorityClass.SUPERVISED, TrustPhase.LIMITED_REMEDIATION)
    in_scope = proposal(name="checkout-other")
    outside = proposal(namespace="kube-system")
    assert _act(identity, in_scope).outcome is Outcome.NEEDS_APPROVAL
    assert _act(identity, outside).reason is ReasonCode.OUT_OF_SCOPE
