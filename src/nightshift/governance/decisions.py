"""The vocabulary of a policy decision: outcome, reason code, follow-up.

``outcome`` answers one question only: may this proceed now? ``allow`` (run
the tool call / execute the action now), ``needs_approval`` (only after a
human approves), ``deny`` (never, as asked). What the control plane must do
besides is ``follow_up``: stop the chain (breaker), open a human-review item
(request to widen scope), or escalate with the evidence trail. Whether the
agent's output may be shown to operators is ``visible_to_operators``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Outcome(StrEnum):
    ALLOW = "allow"
    DENY = "deny"
    NEEDS_APPROVAL = "needs_approval"


class FollowUp(StrEnum):
    NONE = "none"
    STOP_CHAIN = "stop_chain"  # a breaker tripped: cancel the chain, record why
    HUMAN_REVIEW = "human_review"  # a request beyond the boundary: ask to widen scope
    ESCALATE = "escalate"  # hand to the owner / on-call with the evidence trail


class ReasonCode(StrEnum):
    """Machine-readable reasons; stable strings (audit records keep them for years)."""

    # allow
    ALLOWED = "allowed"
    AUTO_EXECUTE = "auto_execute"
    DRY_RUN_ALLOWED = "dry_run_allowed"
    # needs_approval
    APPROVAL_REQUIRED = "approval_required"
    ESCALATE_LOW_CONFIDENCE = "escalate_low_confidence"
    SELF_MODIFICATION_REQUIRES_APPROVAL = "self_modification_requires_approval"
    # deny: phase semantics (the proposal is recorded, never executed)
    SHADOW_RECORD_ONLY = "shadow_record_only"
    RECOMMENDATION_ONLY = "recommendation_only"
    # deny: who is asking
    KILL_SWITCH_GLOBAL = "kill_switch_global"
    KILL_SWITCH_AGENT = "kill_switch_agent"
    AGENT_SUSPENDED = "agent_suspended"
    OWNER_INACTIVE = "owner_inactive"
    OWNER_NOT_HUMAN = "owner_not_human"
    PHASE_ABOVE_CLASS_CEILING = "phase_above_class_ceiling"
    CLASS_INSUFFICIENT = "class_insufficient"
    PHASE_INSUFFICIENT = "phase_insufficient"
    SELF_MODIFICATION_NOT_PERMITTED = "self_modification_not_permitted"
    # deny: approval of a pending request refused
    APPROVER_NOT_HUMAN = "approver_not_human"
    APPROVER_INACTIVE = "approver_inactive"
    APPROVER_LACKS_ROLE = "approver_lacks_role"
    APPROVER_IS_AGENT = "approver_is_agent"
    # deny: chain breakers
    CHAIN_MISMATCH = "chain_mismatch"
    CHAIN_CYCLE = "chain_cycle"
    CHAIN_DEPTH_EXCEEDED = "chain_depth_exceeded"
    FAN_OUT_EXCEEDED = "fan_out_exceeded"
    BUDGET_EXHAUSTED = "budget_exhausted"
    RATE_LIMITED = "rate_limited"
    # deny: what is asked
    OUT_OF_SCOPE = "out_of_scope"
    UNKNOWN_TOOL = "unknown_tool"
    WRITE_TOOL_DENIED = "write_tool_denied"
    DESTINATION_OUT_OF_BOUNDS = "destination_out_of_bounds"  # a probe outside the boundary
    UNKNOWN_ACTION = "unknown_action"
    DRY_RUN_UNSUPPORTED = "dry_run_unsupported"
    INVALID_REQUEST = "invalid_request"
    UNKNOWN_REQUEST = "unknown_request"
    POLICY_ERROR = "policy_error"  # the decision itself failed: fail closed


@dataclass(frozen=True, slots=True)
class Decision:
    outcome: Outcome
    reason: ReasonCode
    message: str
    visible_to_operators: bool = True
    follow_up: FollowUp = FollowUp.NONE

    @property
    def allowed(self) -> bool:
        return self.outcome is Outcome.ALLOW

    @property
    def human_review(self) -> bool:
        return self.follow_up is FollowUp.HUMAN_REVIEW

    @property
    def stops_chain(self) -> bool:
        return self.follow_up is FollowUp.STOP_CHAIN

    @property
    def escalates(self) -> bool:
        return self.follow_up is FollowUp.ESCALATE

    def to_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome.value,
            "reason": self.reason.value,
            "message": self.message,
            "visible_to_operators": self.visible_to_operators,
            "follow_up": self.follow_up.value,
        }


def deny(
    reason: ReasonCode,
    message: str,
    *,
    visible: bool = True,
    follow_up: FollowUp = FollowUp.NONE,
) -> Decision:
    return Decision(Outcome.DENY, reason, message, visible, follow_up)
