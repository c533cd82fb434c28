"""Principals, agent identities, their boundaries and their thresholds.

An agent identity is only ever as accountable as its owner: every identity
names an active human owner with a contact, an authority class (a ceiling on
autonomy, independent of data access) and the trust phase it stands in now.
Boundaries and thresholds live here, not in governance, because they are part
of the identity's configuration: changing them is a configuration change that
governance decides on, never a code change.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from nightshift.domain.vocabulary import AuthorityClass, Domain, PrincipalKind, Role, TrustPhase

AGENT_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
ALL_NAMESPACES = "*"  # a boundary entry that admits every namespace


class AgentConfigError(ValueError):
    """An identity, owner or threshold was refused; the message says why."""


class OwnershipError(AgentConfigError):
    """The principal may not own an agent (not human, inactive, unreachable)."""


@dataclass(frozen=True, slots=True)
class Principal:
    """A user record: a human, or a service account (which may never own agents)."""

    id: str
    display_name: str
    kind: PrincipalKind
    roles: frozenset[Role] = frozenset()
    contact: str | None = None
    active: bool = True

    def has_role(self, role: Role) -> bool:
        return role in self.roles

    @property
    def is_human(self) -> bool:
        return self.kind is PrincipalKind.HUMAN


def require_owner(principal: Principal) -> Principal:
    """The principal, if it may own agents; otherwise a clear refusal."""
    if principal.kind is not PrincipalKind.HUMAN:
        raise OwnershipError(
            f"owner {principal.id!r} is a {principal.kind.value} principal; "
            "only a human can be accountable for an agent"
        )
    if not principal.active:
        raise OwnershipError(f"owner {principal.id!r} is deactivated")
    if not principal.contact or not principal.contact.strip():
        raise OwnershipError(f"owner {principal.id!r} has no contact; owners must be reachable")
    return principal


class AgentStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"


# The class is a ceiling on the phase: an advisory identity can never leave the
# recommendation phases, a supervised one never executes without a human.
_CLASS_CEILING: dict[AuthorityClass, TrustPhase] = {
    AuthorityClass.ADVISORY: TrustPhase.ASSIST,
    AuthorityClass.SUPERVISED: TrustPhase.LIMITED_REMEDIATION,
    AuthorityClass.AUTONOMOUS: TrustPhase.AUTONOMOUS_L1,
    AuthorityClass.SELF_MODIFYING: TrustPhase.AUTONOMOUS_L1,
}


def class_ceiling(authority_class: AuthorityClass) -> TrustPhase:
    """The highest trust phase an identity of this class may ever stand in."""
    return _CLASS_CEILING[authority_class]


def parse_authority_class(value: str) -> AuthorityClass:
    try:
        return AuthorityClass(value)
    except ValueError:
        allowed = ", ".join(c.value for c in AuthorityClass)
        raise AgentConfigError(
            f"unknown authority class {value!r}; expected one of {allowed}"
        ) from None


def parse_trust_phase(value: str) -> TrustPhase:
    try:
        return TrustPhase(value)
    except ValueError:
        allowed = ", ".join(p.value for p in TrustPhase)
        raise AgentConfigError(
            f"unknown trust phase {value!r}; expected one of {allowed}"
        ) from None


@dataclass(frozen=True, slots=True)
class Boundaries:
    """What an identity may touch and how far a chain it starts may grow.

    Contradictions (e.g. ``max_depth < 1``) are reported by
    ``nightshift.governance.containment.validate_boundaries``, which also
    knows the action catalog; the values here are plain configuration.
    """

    namespaces: frozenset[str] = frozenset()
    domains: frozenset[Domain] = frozenset()
    action_types: frozenset[str] = frozenset()
    max_depth: int = 3
    max_fan_out: int = 4
    max_calls_per_minute: int = 120
    max_tokens: int = 200_000
    max_cost_usd: float = 5.0
    max_wall_seconds: float = 900.0
    max_tool_calls: int = 200

    def allows_namespace(self, namespace: str) -> bool:
        if ALL_NAMESPACES in self.namespaces:
            return True
        return namespace != ALL_NAMESPACES and namespace in self.namespaces

    def to_dict(self) -> dict[str, Any]:
        return {
            "namespaces": sorted(self.namespaces),
            "domains": sorted(d.value for d in self.domains),
            "action_types": sorted(self.action_types),
            **{k: getattr(self, k) for k in _LIMIT_FIELDS},
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Boundaries:
        """Parse stored or submitted boundaries; unknown keys and bad types are refused."""
        unknown = sorted(set(raw) - {"namespaces", "domains", "action_types", *_LIMIT_FIELDS})
        if unknown:
            raise AgentConfigError(f"unknown boundary fields {unknown}")
        try:
            limits: dict[str, Any] = {}
            for key, kind in _LIMIT_FIELDS.items():
                if key in raw:
                    value = raw[key]
                    if isinstance(value, bool) or not isinstance(value, int | float):
                        raise TypeError(f"{key} must be a number, got {value!r}")
                    if kind is int and value != int(value):
                        raise TypeError(f"{key} must be an integer, got {value!r}")
                    limits[key] = kind(value)
            return cls(
                namespaces=frozenset(_strings(raw, "namespaces")),
                domains=frozenset(Domain(d) for d in _strings(raw, "domains")),
                action_types=frozenset(_strings(raw, "action_types")),
                **limits,
            )
        except (TypeError, ValueError) as exc:
            raise AgentConfigError(f"invalid boundaries: {exc}") from None


_LIMIT_FIELDS: dict[str, type[int] | type[float]] = {
    "max_depth": int,
    "max_fan_out": int,
    "max_calls_per_minute": int,
    "max_tokens": int,
    "max_cost_usd": float,
    "max_wall_seconds": float,
    "max_tool_calls": int,
}


def _strings(raw: Mapping[str, Any], key: str) -> list[str]:
    value = raw.get(key, [])
    if isinstance(value, str) or not isinstance(value, list | tuple | set | frozenset):
        raise TypeError(f"{key} must be a list of strings")
    if not all(isinstance(v, str) for v in value):
        raise TypeError(f"{key} must be a list of strings")
    return list(value)


@dataclass(frozen=True, slots=True)
class PromotionThresholds:
    """Evidence needed to enter one phase; ``None`` switches a gate off.

    ``min_success_rate`` is the transition's success metric: diagnostic
    accuracy into assist, operator agreement into limited-remediation,
    remediation completion into autonomous-l1. Rates are strict (``>``),
    counts are inclusive, as in the seed table.
    """

    min_sample: int
    min_success_rate: float
    min_domains: int = 0
    max_unsafe_attempts: int | None = None
    max_out_of_scope: int | None = None
    min_minimal_edit_rate: float | None = None
    max_rollback_rate: float | None = None
    min_escalation_correctness: float | None = None
    signoff_roles: tuple[Role, ...] = (Role.OPS_LEAD,)


SEED_TO_ASSIST = PromotionThresholds(
    min_sample=100, min_domains=3, min_success_rate=0.95, max_unsafe_attempts=0
)
SEED_TO_LIMITED = PromotionThresholds(
    min_sample=150, min_success_rate=0.90, max_out_of_scope=0, min_minimal_edit_rate=0.80
)
SEED_TO_AUTONOMOUS = PromotionThresholds(
    min_sample=100,
    min_success_rate=0.99,
    max_rollback_rate=0.01,
    min_escalation_correctness=0.95,
    signoff_roles=(Role.OPS_LEAD, Role.PLATFORM_OWNER),
)


@dataclass(frozen=True, slots=True)
class DemotionThresholds:
    """Seed demotion rules: any one of them firing demotes one phase."""

    min_accuracy: float = 0.92
    window_days: int = 30
    max_rollback_rate: float = 0.02
    max_out_of_scope_actions: int = 0
    min_sample: int = 1  # scored incidents / executions needed before a rate counts


@dataclass(frozen=True, slots=True)
class AgentThresholds:
    """Every number that governs one identity; all configurable per agent."""

    auto_execute_confidence: float = 0.85
    to_assist: PromotionThresholds = SEED_TO_ASSIST
    to_limited: PromotionThresholds = SEED_TO_LIMITED
    to_autonomous: PromotionThresholds = SEED_TO_AUTONOMOUS
    demotion: DemotionThresholds = field(default_factory=DemotionThresholds)

    def for_target(self, target: TrustPhase) -> PromotionThresholds | None:
        """Thresholds for entering ``target``; ``None`` for shadow (the entry phase)."""
        if target is TrustPhase.ASSIST:
            return self.to_assist
        if target is TrustPhase.LIMITED_REMEDIATION:
            return self.to_limited
        if target is TrustPhase.AUTONOMOUS_L1:
            return self.to_autonomous
        return None


@dataclass(frozen=True, slots=True)
class AgentIdentity:
    name: str
    owner: Principal
    authority_class: AuthorityClass
    phase: TrustPhase
    boundaries: Boundaries = field(default_factory=Boundaries)
    status: AgentStatus = AgentStatus.ACTIVE
    thresholds: AgentThresholds = field(default_factory=AgentThresholds)
    suspended_reason: str | None = None

    @property
    def ceiling(self) -> TrustPhase:
        return _CLASS_CEILING[self.authority_class]

    @property
    def may_act(self) -> bool:
        """Active, with an active human owner: the precondition for any decision."""
        owner = self.owner
        return (
            self.status is AgentStatus.ACTIVE and owner.active and owner.kind is PrincipalKind.HUMAN
        )

    def suspended(self, reason: str) -> AgentIdentity:
        return replace(self, status=AgentStatus.SUSPENDED, suspended_reason=reason)

    def with_phase(self, phase: TrustPhase) -> AgentIdentity:
        if phase.rank > self.ceiling.rank:
            raise AgentConfigError(
                f"phase {phase.value} exceeds the ceiling of authority class "
                f"{self.authority_class.value} ({self.ceiling.value})"
            )
        return replace(self, phase=phase)


OWNER_INACTIVE_REASON = "owner-inactive"


def register_agent(
    name: str,
    owner: Principal,
    authority_class: AuthorityClass,
    *,
    phase: TrustPhase = TrustPhase.SHADOW,
    boundaries: Boundaries | None = None,
    thresholds: AgentThresholds | None = None,
) -> AgentIdentity:
    """A new identity, or a refusal naming the first rule it breaks."""
    if not AGENT_NAME.match(name):
        raise AgentConfigError(
            f"agent name {name!r} must be lowercase letters, digits and '-', 1-63 characters"
        )
    require_owner(owner)
    if owner.id == name:
        raise OwnershipError(f"agent {name!r} cannot own itself")
    th = thresholds or AgentThresholds()
    if not 0.0 <= th.auto_execute_confidence <= 1.0:
        raise AgentConfigError("auto_execute_confidence must be within [0, 1]")
    identity = AgentIdentity(
        name=name,
        owner=owner,
        authority_class=authority_class,
        phase=TrustPhase.SHADOW,
        boundaries=boundaries or Boundaries(),
        thresholds=th,
    )
    return identity.with_phase(phase)


def on_owner_deactivated(
    agents: tuple[AgentIdentity, ...], owner_id: str
) -> tuple[AgentIdentity, ...]:
    """The given agents with every one owned by ``owner_id`` suspended."""
    return tuple(
        a.suspended(OWNER_INACTIVE_REASON) if a.owner.id == owner_id else a for a in agents
    )


def transfer_ownership(agent: AgentIdentity, new_owner: Principal) -> AgentIdentity:
    """Hand the identity to another human; lifts a suspension caused by the old owner."""
    require_owner(new_owner)
    if new_owner.id == agent.name:
        raise OwnershipError(f"agent {agent.name!r} cannot own itself")
    if agent.suspended_reason == OWNER_INACTIVE_REASON:
        return replace(agent, owner=new_owner, status=AgentStatus.ACTIVE, suspended_reason=None)
    return replace(agent, owner=new_owner)
