"""Agent identities as plain data (JSON) and back.

The control plane stores boundaries and thresholds as JSON and hands each
worker its own identity in its spec; both sides rebuild the frozen domain
objects here, so the pure policy functions only ever see domain values.
Invalid data raises ValueError with a message that names the field.
"""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import Any

from nightshift.domain import thresholds_codec
from nightshift.domain.agents import (
    AgentIdentity,
    AgentStatus,
    AgentThresholds,
    Boundaries,
    Principal,
)
from nightshift.domain.vocabulary import AuthorityClass, Domain, PrincipalKind, Role, TrustPhase

_SETS = {"namespaces", "domains", "action_types"}
_BOUNDARY_SCALARS = {f.name for f in fields(Boundaries)} - _SETS


def boundaries_from(data: dict[str, Any]) -> Boundaries:
    unknown = set(data) - _BOUNDARY_SCALARS - _SETS
    if unknown:
        raise ValueError(f"unknown boundary field(s): {', '.join(sorted(unknown))}")
    try:
        scalars = {k: data[k] for k in _BOUNDARY_SCALARS if k in data}
        return Boundaries(
            namespaces=frozenset(str(n) for n in data.get("namespaces", ())),
            domains=frozenset(Domain(d) for d in data.get("domains", ())),
            action_types=frozenset(str(a) for a in data.get("action_types", ())),
            **scalars,
        )
    except TypeError as exc:
        raise ValueError(f"invalid boundaries: {exc}") from exc


def boundaries_to(b: Boundaries) -> dict[str, Any]:
    out: dict[str, Any] = {k: getattr(b, k) for k in sorted(_BOUNDARY_SCALARS)}
    out["namespaces"] = sorted(b.namespaces)
    out["domains"] = sorted(d.value for d in b.domains)
    out["action_types"] = sorted(b.action_types)
    return out


def thresholds_from(data: dict[str, Any]) -> AgentThresholds:
    """Seed defaults, overridden field by field; unknown or mistyped fields raise."""
    return thresholds_codec.thresholds_from(data)


def thresholds_to(t: AgentThresholds) -> dict[str, Any]:
    raw = asdict(t)
    for key in ("to_assist", "to_limited", "to_autonomous"):
        raw[key]["signoff_roles"] = [r.value for r in getattr(t, key).signoff_roles]
    return raw


def principal_to(p: Principal) -> dict[str, Any]:
    return {
        "id": p.id,
        "display_name": p.display_name,
        "kind": p.kind.value,
        "roles": sorted(r.value for r in p.roles),
        "contact": p.contact,
        "active": p.active,
    }


def principal_from(data: dict[str, Any]) -> Principal:
    return Principal(
        id=str(data["id"]),
        display_name=str(data.get("display_name") or data["id"]),
        kind=PrincipalKind(data["kind"]),
        roles=frozenset(Role(r) for r in data.get("roles", ())),
        contact=data.get("contact"),
        active=bool(data.get("active", True)),
    )


def identity_to(agent: AgentIdentity) -> dict[str, Any]:
    return {
        "name": agent.name,
        "owner": principal_to(agent.owner),
        "authority_class": agent.authority_class.value,
        "phase": agent.phase.value,
        "boundaries": boundaries_to(agent.boundaries),
        "status": agent.status.value,
        "thresholds": thresholds_to(agent.thresholds),
        "suspended_reason": agent.suspended_reason,
    }


def identity_from(data: dict[str, Any]) -> AgentIdentity:
    return AgentIdentity(
        name=str(data["name"]),
        owner=principal_from(data["owner"]),
        authority_class=AuthorityClass(data["authority_class"]),
        phase=TrustPhase(data["phase"]),
        boundaries=boundaries_from(data.get("boundaries") or {}),
        status=AgentStatus(data.get("status", "active")),
        thresholds=thresholds_from(data.get("thresholds") or {}),
        suspended_reason=data.get("suspended_reason"),
    )
