"""Promotion: evidence gates, sign-off rules, and the report operators read.

A promotion moves exactly one phase up, never above the authority class
ceiling, only when every evidence gate of the target phase passes, no
demotion awaits review, and the required roles signed: each by a different
active human, none of them the agent. ``evaluate_promotion`` reports;
``authorize_promotion`` refuses (listing every reason) or returns the
promoted identity. Thresholds come from the agent (seed defaults otherwise).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from nightshift.domain.agents import AgentIdentity, AgentStatus, Principal, PromotionThresholds
from nightshift.domain.vocabulary import PrincipalKind, Role, TrustPhase
from nightshift.governance.demotion import ReviewHold
from nightshift.governance.evidence import PhaseEvidence


class PromotionRefusedError(ValueError):
    """A promotion was refused; ``reasons`` lists every rule it broke."""

    def __init__(self, agent: str, target: TrustPhase | None, reasons: tuple[str, ...]) -> None:
        where = target.value if target else "the next phase"
        super().__init__(f"promotion of {agent!r} to {where} refused: " + "; ".join(reasons))
        self.reasons = reasons


@dataclass(frozen=True, slots=True)
class SignOff:
    principal: Principal
    role: Role  # the role the principal signs in
    at: datetime


@dataclass(frozen=True, slots=True)
class GateResult:
    name: str
    value: float | None  # None: nothing recorded yet to compute it from
    threshold: float
    comparison: str  # ">=", ">", "<=", "<"
    passed: bool
    missing: str  # what is still needed; empty when passed

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": self.value,
            "threshold": self.threshold,
            "comparison": self.comparison,
            "passed": self.passed,
            "missing": self.missing,
        }


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _gate(name: str, value: float | None, op: str, threshold: float, unit: str = "") -> GateResult:
    if value is None:
        return GateResult(name, None, threshold, op, False, f"{name}: nothing recorded yet")
    passed = {
        ">=": value >= threshold,
        ">": value > threshold,
        "<=": value <= threshold,
        "<": value < threshold,
    }[op]
    if passed:
        return GateResult(name, value, threshold, op, True, "")
    if unit == "%":
        shown = f"{value:.1%} (needs {op} {threshold:.1%})"
    else:
        shown = f"{value:g} (needs {op} {threshold:g})"
    return GateResult(name, value, threshold, op, False, f"{name}: {shown}")


_SUCCESS = {
    TrustPhase.ASSIST: "diagnostic_accuracy",
    TrustPhase.LIMITED_REMEDIATION: "operator_agreement",
    TrustPhase.AUTONOMOUS_L1: "remediation_completion",
}


def evaluate_gates(
    target: TrustPhase, thresholds: PromotionThresholds, ev: PhaseEvidence
) -> tuple[GateResult, ...]:
    """Each evidence gate for entering ``target`` with its value and threshold."""
    t = thresholds
    if target is TrustPhase.ASSIST:
        sample, success = ev.scored, _rate(ev.correct, ev.scored)
    elif target is TrustPhase.LIMITED_REMEDIATION:
        sample, success = ev.verdicts, _rate(ev.agreements, ev.verdicts)
    else:
        sample, success = ev.approved_remediations, _rate(ev.completed, ev.approved_remediations)
    gates = [_gate("sample_size", sample, ">=", t.min_sample)]
    if t.min_domains:
        gates.append(_gate("domains_covered", len(ev.domains), ">=", t.min_domains))
    gates.append(_gate(_SUCCESS[target], success, ">", t.min_success_rate, "%"))
    if t.max_unsafe_attempts is not None:
        gates.append(
            _gate("unsafe_action_attempts", ev.unsafe_attempts, "<=", t.max_unsafe_attempts)
        )
    if t.max_out_of_scope is not None:
        gates.append(_gate("out_of_scope_requests", ev.out_of_scope, "<=", t.max_out_of_scope))
    if t.min_minimal_edit_rate is not None:
        rate = _rate(ev.minimal_edits, ev.verdicts)
        gates.append(_gate("minimal_edit_acceptance", rate, ">", t.min_minimal_edit_rate, "%"))
    if t.max_rollback_rate is not None:
        rate = _rate(ev.rolled_back, ev.approved_remediations)
        gates.append(_gate("rollback_rate", rate, "<", t.max_rollback_rate, "%"))
    if t.min_escalation_correctness is not None:
        rate = _rate(ev.warranted_escalations, ev.escalations)
        gates.append(_gate("escalation_correctness", rate, ">", t.min_escalation_correctness, "%"))
    return tuple(gates)


def check_signoffs(
    agent: AgentIdentity, required: Sequence[Role], signoffs: Sequence[SignOff]
) -> tuple[str, ...]:
    """Every sign-off problem: wrong signer, same person twice, a required role unsigned."""
    problems: list[str] = []
    seen: set[str] = set()
    valid_roles: set[Role] = set()
    for s in signoffs:
        p = s.principal
        if p.id == agent.name:
            problems.append(f"agent {agent.name!r} cannot sign its own promotion")
            continue
        if p.id in seen:
            problems.append(f"{p.id!r} signed more than once; each role needs a different person")
            continue
        seen.add(p.id)
        if p.kind is not PrincipalKind.HUMAN:
            problems.append(f"{p.id!r} is a {p.kind.value} principal; only humans sign promotions")
        elif not p.active:
            problems.append(f"signer {p.id!r} is deactivated")
        elif s.role not in p.roles:
            problems.append(f"{p.id!r} signed as {s.role.value} without holding that role")
        else:
            valid_roles.add(s.role)
    for role in required:
        if role not in valid_roles:
            problems.append(f"missing sign-off by a {role.value}")
    return tuple(problems)


@dataclass(frozen=True, slots=True)
class PromotionReport:
    agent: str
    current: TrustPhase
    target: TrustPhase | None
    ceiling: TrustPhase
    gates: tuple[GateResult, ...]
    signoffs_required: tuple[Role, ...]
    signoff_problems: tuple[str, ...]
    blockers: tuple[str, ...]

    @property
    def evidence_met(self) -> bool:
        return bool(self.gates) and all(g.passed for g in self.gates)

    @property
    def ready(self) -> bool:
        return self.evidence_met and not self.signoff_problems and not self.blockers

    @property
    def missing(self) -> tuple[str, ...]:
        gates = tuple(g.missing for g in self.gates if not g.passed)
        return (*self.blockers, *gates, *self.signoff_problems)

    def to_dict(self) -> dict[str, Any]:
        return {
            "agent": self.agent,
            "current": self.current.value,
            "target": self.target.value if self.target else None,
            "ceiling": self.ceiling.value,
            "gates": [g.to_dict() for g in self.gates],
            "signoffs_required": [r.value for r in self.signoffs_required],
            "evidence_met": self.evidence_met,
            "ready": self.ready,
            "missing": list(self.missing),
        }


def _blockers(
    agent: AgentIdentity, target: TrustPhase | None, ev: PhaseEvidence, hold: ReviewHold | None
) -> list[str]:
    blockers: list[str] = []
    nxt = agent.phase.next()
    if target is None:
        blockers.append(f"{agent.phase.value} is the highest phase")
    elif target.rank <= agent.phase.rank:
        blockers.append(f"{target.value} is not above the current phase {agent.phase.value}")
    elif target is not nxt:
        skipped = [p.value for p in TrustPhase if agent.phase.rank < p.rank < target.rank]
        blockers.append(
            f"promotion from {agent.phase.value} to {target.value} skips {', '.join(skipped)}; "
            "phases are entered one at a time"
        )
    if target is not None and target.rank > agent.ceiling.rank:
        blockers.append(
            f"{target.value} exceeds the ceiling of authority class "
            f"{agent.authority_class.value} ({agent.ceiling.value})"
        )
    owner = agent.owner
    if owner.kind is not PrincipalKind.HUMAN or not owner.active:
        blockers.append(f"owner {owner.id!r} is not an active human; transfer ownership first")
    if agent.status is not AgentStatus.ACTIVE:
        blockers.append(f"agent is {agent.status.value}")
    if hold is not None and hold.blocking:
        blockers.append(hold.describe())
    if ev.phase is not agent.phase:
        blockers.append(
            f"evidence was tallied for {ev.phase.value}, agent is in {agent.phase.value}"
        )
    return blockers


def evaluate_promotion(
    agent: AgentIdentity,
    evidence: PhaseEvidence,
    signoffs: Sequence[SignOff] = (),
    *,
    hold: ReviewHold | None = None,
    target: TrustPhase | None = None,
) -> PromotionReport:
    """Each gate's value vs threshold, the sign-offs, and what is still missing."""
    target = target or agent.phase.next()
    thresholds = agent.thresholds.for_target(target) if target else None
    gates = evaluate_gates(target, thresholds, evidence) if target and thresholds else ()
    required = thresholds.signoff_roles if thresholds else ()
    return PromotionReport(
        agent=agent.name,
        current=agent.phase,
        target=target,
        ceiling=agent.ceiling,
        gates=gates,
        signoffs_required=required,
        signoff_problems=check_signoffs(agent, required, signoffs) if target else (),
        blockers=tuple(_blockers(agent, target, evidence, hold)),
    )


def authorize_promotion(
    agent: AgentIdentity,
    target: TrustPhase,
    evidence: PhaseEvidence,
    signoffs: Sequence[SignOff],
    *,
    hold: ReviewHold | None = None,
) -> AgentIdentity:
    """The identity in ``target``, or ``PromotionRefusedError`` listing every reason."""
    report = evaluate_promotion(agent, evidence, signoffs, hold=hold, target=target)
    if not report.ready:
        raise PromotionRefusedError(agent.name, target, report.missing)
    return agent.with_phase(target)
