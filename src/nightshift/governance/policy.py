"""The policy decision point: one pure function for every tool call and action.

``decide`` answers from the agent's identity (owner, class, phase,
boundaries, thresholds), the chain context (path, depth, remaining budget),
the kill switch, recent call counts and the request itself. It is deny by
default: an unrecognised request, or one that matches no allowing rule, is
denied. Order matters and is fixed: who is asking (kill switch, suspension,
owner, ceiling), then the chain breakers, then what is asked.

It runs on every tool call, so it avoids allocation on the common path:
allowing decisions are module constants, messages are built only on refusal.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from nightshift.domain.actions import ActionCatalog, ActionProposal, ActionSpec
from nightshift.domain.agents import AgentIdentity, AgentStatus
from nightshift.domain.vocabulary import AuthorityClass, Domain, PrincipalKind, TrustPhase
from nightshift.governance.containment import (
    KILL_SWITCH_OFF,
    ChainContext,
    KillSwitch,
    check_chain,
    check_delegation,
)
from nightshift.governance.decisions import Decision, FollowUp, Outcome, ReasonCode, deny
from nightshift.governance.destinations import (
    NO_DECLARED_DESTINATIONS,
    DestinationBounds,
    check_destination,
)
from nightshift.governance.permissions import MATRIX, ActionMode, action_mode


@dataclass(frozen=True, slots=True)
class ToolRequest:
    """A read tool call. ``namespace`` is ``None`` for tools that are not
    namespaced and ``"*"`` for a namespaced tool asked about all namespaces;
    ``domain`` is ``None`` when the tool is unknown to the toolset;
    ``destination`` is the host a network probe would reach (``None`` for
    tools that probe nothing)."""

    tool: str
    domain: Domain | None
    read_only: bool = True
    namespace: str | None = None
    destination: str | None = None


@dataclass(frozen=True, slots=True)
class ActionRequest:
    proposal: ActionProposal


@dataclass(frozen=True, slots=True)
class DelegationRequest:
    """Start a child hop (agent -> agent) in the same chain."""

    child: str


@dataclass(frozen=True, slots=True)
class SelfModificationRequest:
    """Change one of the agent's own operating parameters (thresholds,
    boundaries, prompts, model): an action of its own."""

    parameter: str
    value: str
    rationale: str = ""


Request = ToolRequest | ActionRequest | DelegationRequest | SelfModificationRequest


@dataclass(frozen=True, slots=True)
class PolicyContext:
    """Everything besides the identity and the request that a decision reads."""

    chain: ChainContext
    catalog: ActionCatalog
    kill_switch: KillSwitch = KILL_SWITCH_OFF
    calls_last_minute: int = 0
    children_spawned: int = 0
    # Hosts of declared sources and the network allow-list; cluster Services in
    # the agent's namespaces need no entry. The default declares nothing.
    destinations: DestinationBounds = NO_DECLARED_DESTINATIONS


_ALLOW_VISIBLE = Decision(Outcome.ALLOW, ReasonCode.ALLOWED, "within boundaries", True)
_ALLOW_HIDDEN = Decision(Outcome.ALLOW, ReasonCode.ALLOWED, "within boundaries", False)


def _identity(agent: AgentIdentity) -> Decision | None:
    owner = agent.owner
    if (
        agent.status is AgentStatus.ACTIVE
        and owner.active
        and owner.kind is PrincipalKind.HUMAN
        and (agent.authority_class, agent.phase) in MATRIX
    ):
        return None  # the common case, checked without building anything
    if not agent.may_act:
        if owner.kind is not PrincipalKind.HUMAN:
            return deny(
                ReasonCode.OWNER_NOT_HUMAN,
                f"agent {agent.name!r} is owned by non-human {owner.id!r}; it may not act",
                follow_up=FollowUp.STOP_CHAIN,
            )
        if not owner.active:
            return deny(
                ReasonCode.OWNER_INACTIVE,
                f"owner {owner.id!r} of agent {agent.name!r} is inactive; "
                "transfer ownership before it may act",
                follow_up=FollowUp.STOP_CHAIN,
            )
        return deny(
            ReasonCode.AGENT_SUSPENDED,
            f"agent {agent.name!r} is suspended ({agent.suspended_reason or 'no reason given'})",
            follow_up=FollowUp.STOP_CHAIN,
        )
    if (agent.authority_class, agent.phase) not in MATRIX:
        return deny(
            ReasonCode.PHASE_ABOVE_CLASS_CEILING,
            f"phase {agent.phase.value} exceeds the ceiling of authority class "
            f"{agent.authority_class.value} ({agent.ceiling.value})",
            follow_up=FollowUp.STOP_CHAIN,
        )
    return None


def _out_of_scope(what: str, visible: bool) -> Decision:
    return deny(
        ReasonCode.OUT_OF_SCOPE,
        f"{what}; request to widen scope sent for human review",
        visible=visible,
        follow_up=FollowUp.HUMAN_REVIEW,
    )


def _tool(
    agent: AgentIdentity, request: ToolRequest, bounds: DestinationBounds, visible: bool
) -> Decision:
    b = agent.boundaries
    if request.domain is None:
        return deny(
            ReasonCode.UNKNOWN_TOOL, f"tool {request.tool!r} is not offered", visible=visible
        )
    if not request.read_only:
        return deny(
            ReasonCode.WRITE_TOOL_DENIED,
            f"tool {request.tool!r} writes; agents change things only through proposed actions",
            visible=visible,
        )
    if request.domain not in b.domains:
        return _out_of_scope(
            f"tool {request.tool!r} reads domain {request.domain.value!r} outside the boundary",
            visible,
        )
    ns = request.namespace
    if ns is not None and not b.allows_namespace(ns):
        where = "all namespaces" if ns == "*" else f"namespace {ns!r}"
        return _out_of_scope(f"tool {request.tool!r} reads {where} outside the boundary", visible)
    if request.destination is not None:
        why = check_destination(request.destination, b.namespaces, bounds)
        if why is not None:
            # Not a scope-widening request for review: a probe target usually
            # comes from text the agent read, which no human should be asked about.
            return deny(
                ReasonCode.DESTINATION_OUT_OF_BOUNDS,
                f"tool {request.tool!r} would probe outside the boundary: {why}",
                visible=visible,
            )
    return _ALLOW_VISIBLE if visible else _ALLOW_HIDDEN


def _scope(
    agent: AgentIdentity, spec: ActionSpec, p: ActionProposal, visible: bool
) -> Decision | None:
    b = agent.boundaries
    if spec.name not in b.action_types:
        return _out_of_scope(f"action {spec.name!r} is not an allowed action type", visible)
    if spec.domain not in b.domains:
        return _out_of_scope(f"action {spec.name!r} acts in domain {spec.domain.value!r}", visible)
    if spec.scope.namespaced:
        ns = p.target.namespace
        if ns is None or not b.allows_namespace(ns):
            return _out_of_scope(f"action {spec.name!r} targets namespace {ns!r}", visible)
    return None


def _action(
    agent: AgentIdentity, p: ActionProposal, catalog: ActionCatalog, visible: bool
) -> Decision:
    spec = catalog.actions.get(p.action)
    if spec is None:
        return deny(
            ReasonCode.UNKNOWN_ACTION, f"action {p.action!r} is not in the catalog", visible=visible
        )
    if not (math.isfinite(p.confidence) and 0.0 <= p.confidence <= 1.0):
        return deny(ReasonCode.INVALID_REQUEST, "confidence must be within [0, 1]", visible=visible)
    refused = _scope(agent, spec, p, visible)
    if refused is not None:
        return refused
    if agent.phase is TrustPhase.SHADOW:
        return deny(
            ReasonCode.SHADOW_RECORD_ONLY,
            "shadow phase: the proposal is recorded for review, never shown or executed",
            visible=False,
        )
    req = spec.propose
    if agent.authority_class.rank < req.min_class.rank:
        return deny(
            ReasonCode.CLASS_INSUFFICIENT,
            f"proposing {spec.name!r} needs authority class {req.min_class.value}",
            visible=visible,
        )
    if agent.phase.rank < req.min_phase.rank:
        return deny(
            ReasonCode.PHASE_INSUFFICIENT,
            f"proposing {spec.name!r} needs phase {req.min_phase.value}",
            visible=visible,
        )
    mode = action_mode(agent, spec)
    if mode is ActionMode.RECOMMEND:
        return deny(
            ReasonCode.RECOMMENDATION_ONLY,
            f"{agent.phase.value} / {agent.authority_class.value}: shown as a recommendation only",
            visible=visible,
        )
    if p.dry_run:
        if not spec.dry_run:
            return deny(
                ReasonCode.DRY_RUN_UNSUPPORTED, f"{spec.name!r} has no dry-run", visible=visible
            )
        return Decision(
            Outcome.ALLOW, ReasonCode.DRY_RUN_ALLOWED, "dry-run changes nothing", visible
        )
    if mode is ActionMode.AUTO:
        threshold = agent.thresholds.auto_execute_confidence
        if p.confidence >= threshold:
            return Decision(
                Outcome.ALLOW, ReasonCode.AUTO_EXECUTE, "in scope and above the threshold", visible
            )
        return Decision(
            Outcome.NEEDS_APPROVAL,
            ReasonCode.ESCALATE_LOW_CONFIDENCE,
            f"confidence {p.confidence:.2f} below the threshold {threshold:.2f}: escalated",
            visible,
            FollowUp.ESCALATE,
        )
    if mode is ActionMode.APPROVAL:
        return Decision(
            Outcome.NEEDS_APPROVAL,
            ReasonCode.APPROVAL_REQUIRED,
            f"{spec.name!r} runs only after a human operator approves",
            visible,
        )
    return deny(ReasonCode.UNKNOWN_REQUEST, f"no rule allows {spec.name!r}", visible=visible)


def _self_modification(agent: AgentIdentity, r: SelfModificationRequest, visible: bool) -> Decision:
    if agent.authority_class is not AuthorityClass.SELF_MODIFYING:
        return deny(
            ReasonCode.SELF_MODIFICATION_NOT_PERMITTED,
            f"only self-modifying agents may change their own parameters ({r.parameter!r})",
            visible=visible,
        )
    if agent.phase is TrustPhase.SHADOW:
        return deny(
            ReasonCode.SHADOW_RECORD_ONLY,
            "shadow phase: the change request is recorded for review only",
            visible=False,
        )
    return Decision(
        Outcome.NEEDS_APPROVAL,
        ReasonCode.SELF_MODIFICATION_REQUIRES_APPROVAL,
        f"changing own parameter {r.parameter!r} needs a human's approval",
        visible,
    )


def decide(agent: AgentIdentity, request: Request, context: PolicyContext) -> Decision:
    """Allow, deny or require approval for ``request``, with a machine-readable reason."""
    refused = context.kill_switch.check(agent.name) or _identity(agent)
    if refused is not None:
        return refused
    refused = check_chain(agent.name, agent.boundaries, context.chain, context.calls_last_minute)
    if refused is not None:
        return refused
    visible = agent.phase is not TrustPhase.SHADOW
    if isinstance(request, ToolRequest):
        return _tool(agent, request, context.destinations, visible)
    if isinstance(request, ActionRequest):
        return _action(agent, request.proposal, context.catalog, visible)
    if isinstance(request, DelegationRequest):
        refused = check_delegation(
            request.child, agent.boundaries, context.chain, context.children_spawned
        )
        return refused or (_ALLOW_VISIBLE if visible else _ALLOW_HIDDEN)
    if isinstance(request, SelfModificationRequest):
        return _self_modification(agent, request, visible)
    # Unreachable for typed callers; kept so that anything else is denied, not allowed.
    return deny(  # type: ignore[unreachable]
        ReasonCode.UNKNOWN_REQUEST, f"unrecognised request {type(request).__name__}"
    )


def request_to_dict(request: Request) -> dict[str, Any]:
    """The request as plain JSON data, for the audit record."""
    if isinstance(request, ToolRequest):
        return {
            "kind": "tool",
            "tool": request.tool,
            "domain": request.domain.value if request.domain else None,
            "read_only": request.read_only,
            "namespace": request.namespace,
            "destination": request.destination,
        }
    if isinstance(request, ActionRequest):
        return {"kind": "action", **request.proposal.to_dict()}
    if isinstance(request, DelegationRequest):
        return {"kind": "delegation", "child": request.child}
    return {
        "kind": "self_modification",
        "parameter": request.parameter,
        "value": request.value,
        "rationale": request.rationale,
    }


def bind(
    agent: AgentIdentity, context: Callable[[], PolicyContext]
) -> Callable[[Request], Decision]:
    """A one-argument decide for wrappers: identity fixed, context read fresh per call."""

    def bound(request: Request) -> Decision:
        return decide(agent, request, context())

    return bound
