"""Builders for governance tests: identities, contexts, proposals with sane defaults."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from nightshift.domain.actions import ActionProposal, load_action_catalog
from nightshift.domain.agents import AgentIdentity, Boundaries, Principal
from nightshift.domain.diagnosis import ResourceRef
from nightshift.domain.vocabulary import AuthorityClass, Domain, PrincipalKind, Role, TrustPhase
from nightshift.governance.containment import KILL_SWITCH_OFF, KillSwitch, start_chain
from nightshift.governance.policy import PolicyContext

NOW = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)
CATALOG = load_action_catalog()


def human(pid: str = "olivia", *roles: Role, active: bool = True) -> Principal:
    return Principal(
        id=pid,
        display_name=pid.title(),
        kind=PrincipalKind.HUMAN,
        roles=frozenset(roles or (Role.OPERATOR,)),
        contact=f"{pid}@example.org",
        active=active,
    )


def service(pid: str = "ci-bot") -> Principal:
    return Principal(
        id=pid,
        display_name=pid,
        kind=PrincipalKind.SERVICE,
        roles=frozenset({Role.OPERATOR, Role.OPS_LEAD, Role.PLATFORM_OWNER}),
        contact="ci@example.org",
    )


def wide_boundaries(**overrides: Any) -> Boundaries:
    """Everything in the catalog, in namespace ``shop``, in every domain."""
    base = Boundaries(
        namespaces=frozenset({"shop"}),
        domains=frozenset(Domain),
        action_types=frozenset(a.name for a in CATALOG),
    )
    return replace(base, **overrides)


def agent(
    authority_class: AuthorityClass = AuthorityClass.AUTONOMOUS,
    phase: TrustPhase = TrustPhase.AUTONOMOUS_L1,
    *,
    name: str = "triage",
    owner: Principal | None = None,
    boundaries: Boundaries | None = None,
    **overrides: Any,
) -> AgentIdentity:
    # Built directly (not via register_agent) so tests can also build the
    # invalid identities that decide() must refuse.
    identity = AgentIdentity(
        name=name,
        owner=owner or human("olivia"),
        authority_class=authority_class,
        phase=phase,
        boundaries=boundaries or wide_boundaries(),
    )
    return replace(identity, **overrides)


def context(
    identity: AgentIdentity,
    *,
    kill_switch: KillSwitch = KILL_SWITCH_OFF,
    calls_last_minute: int = 0,
    children_spawned: int = 0,
) -> PolicyContext:
    return PolicyContext(
        chain=start_chain("chain-0001", identity.name, identity.boundaries),
        catalog=CATALOG,
        kill_switch=kill_switch,
        calls_last_minute=calls_last_minute,
        children_spawned=children_spawned,
    )


def proposal(
    action: str = "restart-pod",
    *,
    namespace: str | None = "shop",
    kind: str = "pod",
    name: str = "checkout-7d9f",
    confidence: float = 0.95,
    dry_run: bool = False,
) -> ActionProposal:
    return ActionProposal(
        action=action,
        target=ResourceRef(kind=kind, name=name, namespace=namespace),
        confidence=confidence,
        hypothesis_id="h-1",
        rationale="pod stuck after OOM",
        dry_run=dry_run,
    )
