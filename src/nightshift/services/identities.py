"""Rows to domain identities: the agent row's JSON columns rebuilt through the
domain codec, with invalid stored data reported as a clear service error."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from nightshift.domain import agent_codec
from nightshift.domain.agents import AgentIdentity, AgentStatus, Boundaries, Principal
from nightshift.domain.vocabulary import AuthorityClass, PrincipalKind, Role, TrustPhase
from nightshift.services.errors import Invalid, NotFound
from nightshift.store.tables import AgentRow, UserRow


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
    try:
        return agent_codec.boundaries_from(data)
    except ValueError as exc:
        raise Invalid(str(exc)) from exc


def identity_of(agent: AgentRow, owner: UserRow) -> AgentIdentity:
    settings = agent.settings or {}
    try:
        thresholds = agent_codec.thresholds_from(settings.get("thresholds") or {})
    except ValueError as exc:
        raise Invalid(str(exc)) from exc
    return AgentIdentity(
        name=agent.name,
        owner=principal_of(owner),
        authority_class=AuthorityClass(agent.authority_class),
        phase=TrustPhase(agent.trust_phase),
        boundaries=boundaries_from(agent.boundaries or {}),
        status=AgentStatus(agent.status),
        thresholds=thresholds,
        suspended_reason=agent.status_reason or None,
    )


def load_agent(s: Session, name: str, *, lock: bool = False) -> tuple[AgentRow, UserRow]:
    """The agent row and its owner's row, optionally locked for update."""
    q = select(AgentRow).where(AgentRow.name == name)
    agent = s.scalar(q.with_for_update() if lock else q)
    if agent is None:
        raise NotFound(f"no agent named {name!r}")
    owner = s.get(UserRow, agent.owner_id)
    assert owner is not None  # foreign key
    return agent, owner
