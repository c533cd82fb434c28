"""The permission matrix: trust phase x authority class.

The phase says what the agent has earned; the class caps it. Each cell says
whether output reaches operators without review, whether actions are proposed
to operators, and how a proposed action may run (``record_only`` <
``recommend`` < ``approval`` < ``auto``). A cell whose phase lies above the
class ceiling does not exist: such an identity is refused outright.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from nightshift.domain.actions import ActionSpec
from nightshift.domain.agents import AgentIdentity, Principal, class_ceiling
from nightshift.domain.vocabulary import AuthorityClass, PrincipalKind, Role, TrustPhase
from nightshift.governance.decisions import Decision, Outcome, ReasonCode, deny


class ActionMode(StrEnum):
    RECORD_ONLY = "record_only"  # kept for after-the-fact review; never proposed
    RECOMMEND = "recommend"  # shown to operators as a recommendation; never executed
    APPROVAL = "approval"  # executed only after a human operator approves
    AUTO = "auto"  # executed without asking, in scope and above the confidence threshold

    @property
    def rank(self) -> int:
        return _MODE_ORDER.index(self)


_MODE_ORDER = (ActionMode.RECORD_ONLY, ActionMode.RECOMMEND, ActionMode.APPROVAL, ActionMode.AUTO)


@dataclass(frozen=True, slots=True)
class Cell:
    authority_class: AuthorityClass
    phase: TrustPhase
    output_visible: bool  # shown to operators without a review first
    proposes_to_operators: bool
    action_mode: ActionMode


_PHASE_MODE = {
    TrustPhase.SHADOW: ActionMode.RECORD_ONLY,
    TrustPhase.ASSIST: ActionMode.RECOMMEND,
    TrustPhase.LIMITED_REMEDIATION: ActionMode.APPROVAL,
    TrustPhase.AUTONOMOUS_L1: ActionMode.AUTO,
}
_CLASS_MODE = {
    AuthorityClass.ADVISORY: ActionMode.RECOMMEND,
    AuthorityClass.SUPERVISED: ActionMode.APPROVAL,
    AuthorityClass.AUTONOMOUS: ActionMode.AUTO,
    AuthorityClass.SELF_MODIFYING: ActionMode.AUTO,
}


def _build() -> Mapping[tuple[AuthorityClass, TrustPhase], Cell]:
    cells: dict[tuple[AuthorityClass, TrustPhase], Cell] = {}
    for cls in AuthorityClass:
        for phase in TrustPhase:
            if phase.rank > class_ceiling(cls).rank:
                continue
            phase_mode, class_mode = _PHASE_MODE[phase], _CLASS_MODE[cls]
            mode = phase_mode if phase_mode.rank <= class_mode.rank else class_mode
            cells[(cls, phase)] = Cell(
                authority_class=cls,
                phase=phase,
                output_visible=phase is not TrustPhase.SHADOW,
                proposes_to_operators=phase is not TrustPhase.SHADOW,
                action_mode=mode,
            )
    return MappingProxyType(cells)


MATRIX: Mapping[tuple[AuthorityClass, TrustPhase], Cell] = _build()


def cell(authority_class: AuthorityClass, phase: TrustPhase) -> Cell | None:
    """The matrix cell, or ``None`` when the phase lies above the class ceiling."""
    return MATRIX.get((authority_class, phase))


def output_visible(phase: TrustPhase, *, reviewed: bool) -> bool:
    """Shadow output reaches operators only after it has been reviewed."""
    return reviewed or phase is not TrustPhase.SHADOW


def action_mode(agent: AgentIdentity, action: ActionSpec) -> ActionMode:
    """How this agent may run this action now: the cell's mode, narrowed by the
    action's own auto-execute column (``None`` there means always approval)."""
    c = MATRIX.get((agent.authority_class, agent.phase))
    if c is None:
        return ActionMode.RECORD_ONLY
    mode = c.action_mode
    if mode is ActionMode.AUTO:
        auto = action.auto_execute
        if auto is None or not auto.met_by(agent.authority_class, agent.phase):
            return ActionMode.APPROVAL
    return mode


APPROVER_ROLES: frozenset[Role] = frozenset({Role.OPERATOR, Role.OPS_LEAD, Role.PLATFORM_OWNER})
_APPROVAL_OK = Decision(Outcome.ALLOW, ReasonCode.ALLOWED, "approver may approve")


def may_approve(
    approver: Principal, agent: AgentIdentity, roles: frozenset[Role] = APPROVER_ROLES
) -> Decision:
    """May this principal approve a request made by this agent?

    Only an active human holding one of ``roles``, and never the agent's own
    identity: an agent cannot approve its own request.
    """
    if approver.id == agent.name:
        return deny(
            ReasonCode.APPROVER_IS_AGENT, f"agent {agent.name!r} cannot approve its own request"
        )
    if approver.kind is not PrincipalKind.HUMAN:
        return deny(
            ReasonCode.APPROVER_NOT_HUMAN,
            f"{approver.id!r} is a {approver.kind.value} principal; only humans approve",
        )
    if not approver.active:
        return deny(ReasonCode.APPROVER_INACTIVE, f"approver {approver.id!r} is deactivated")
    if not approver.roles & roles:
        needed = ", ".join(sorted(r.value for r in roles))
        return deny(
            ReasonCode.APPROVER_LACKS_ROLE,
            f"approver {approver.id!r} holds none of the roles {needed}",
        )
    return _APPROVAL_OK
