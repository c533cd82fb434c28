"""Rows to domain identities and back: boundaries and thresholds are stored as
JSON on the agent row and rebuilt into the frozen domain objects here, so the
pure policy functions only ever see domain values."""

from __future__ import annotations

from dataclasses import asdict, fields, replace
from typing import Any

from nightshift.domain.agents import (
    AgentIdentity,
    AgentStatus,
    AgentThresholds,
    Boundaries,
    DemotionThresholds,
    Principal,
    PromotionThresholds,
)
from nightshift.domain.vocabulary import (
    AuthorityClass,
    Domain,
    PrincipalKind,
    Role,
    TrustPhase,
)
from nightshift.services.errors import Invalid
from nightshift.store.tables import AgentRow, UserRow

_BOUNDARY_SCALARS = {f.name for f in fields(Boundaries)} - {"namespaces", "domains", "action_types"}


def principal_of(row: UserRow) -> Principal:
    return Principal(
        id=row.name,
        display_name=row.name,
        kind=PrincipalKind(row.kind),
        roles=frozenset(Role(r) for r in row.roles),
        contact=row.contact or None,
        active=row.active,
    )


def boundaries_from(data: dict[str, Any]) -> Boundaries:
    unknown = set(data) - _BOUNDARY_SCALARS - {"namespaces", "domains", "action_types"}
    if unknown:
        raise Invalid(f"unknown boundary field(s): {', '.join(sorted(unknown))}")
    try:
        scalars = {k: data[k] for k in _BOUNDARY_SCALARS if k in data}
        return Boundaries(
            namespaces=frozenset(str(n) for n in data.get("namespaces", ())),
            domains=frozenset(Domain(d) for d in data.get("domains", ())),
            action_types=frozenset(str(a) for a in data.get("action_types", ())),
            **scalars,
        )
    except (TypeError, ValueError) as exc:
        raise Invalid(f"invalid boundaries: {exc}") from exc


def boundaries_to(b: Boundaries) -> dict[str, Any]:
    out = {k: getattr(b, k) for k in _BOUNDARY_SCALARS}
    out["namespaces"] = sorted(b.namespaces)
    out["domains"] = sorted(d.value for d in b.domains)
    out["action_types"] = sorted(b.action_types)
    return out


def thresholds_from(data: dict[str, Any]) -> AgentThresholds:
    """Seed defaults, overridden field by field (every number is configurable)."""
    base = AgentThresholds()
    try:
        out = replace(base, auto_execute_confidence=float(
            data.get("auto_execute_confidence", base.auto_execute_confidence)))  # fmt: skip
        out = replace(
            out,
            to_assist=_promotion(out.to_assist, data.get("to_assist")),
            to_limited=_promotion(out.to_limited, data.get("to_limited")),
            to_autonomous=_promotion(out.to_autonomous, data.get("to_autonomous")),
        )
        if "demotion" in data:
            demotion: DemotionThresholds = out.demotion
            out = replace(out, demotion=replace(demotion, **dict(data["demotion"])))
    except (TypeError, ValueError) as exc:
        raise Invalid(f"invalid thresholds: {exc}") from exc
    if not 0.0 <= out.auto_execute_confidence <= 1.0:
        raise Invalid("auto_execute_confidence must be within [0, 1]")
    return out


def _promotion(current: PromotionThresholds, raw: Any) -> PromotionThresholds:
    if not raw:
        return current
    overrides = dict(raw)
    if "signoff_roles" in overrides:
        overrides["signoff_roles"] = tuple(Role(r) for r in overrides["signoff_roles"])
    return replace(current, **overrides)


def thresholds_to(t: AgentThresholds) -> dict[str, Any]:
    raw = asdict(t)
    for key in ("to_assist", "to_limited", "to_autonomous"):
        raw[key]["signoff_roles"] = [r.value for r in getattr(t, key).signoff_roles]
    return raw


def identity_of(agent: AgentRow, owner: UserRow) -> AgentIdentity:
    settings = agent.settings or {}
    return AgentIdentity(
        name=agent.name,
        owner=principal_of(owner),
        authority_class=AuthorityClass(agent.authority_class),
        phase=TrustPhase(agent.trust_phase),
        boundaries=boundaries_from(agent.boundaries or {}),
        status=AgentStatus(agent.status),
        thresholds=thresholds_from(settings.get("thresholds") or {}),
        suspended_reason=agent.status_reason or None,
    )
