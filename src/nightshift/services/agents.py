"""Agent registry use cases: register, read, and the owner checks around them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from nightshift.domain import agent_codec
from nightshift.domain.access import Caller
from nightshift.domain.actions import ActionCatalog
from nightshift.domain.agents import (
    AGENT_NAME,
    AgentConfigError,
    class_ceiling,
    parse_authority_class,
    parse_trust_phase,
    register_agent,
)
from nightshift.domain.ids import new_id
from nightshift.domain.vocabulary import AuthorityClass, PrincipalKind, TrustPhase
from nightshift.governance.boundaries import BoundaryConflictError, require_valid_boundaries
from nightshift.services.audit import AuditService, human_entry
from nightshift.services.errors import Conflict, Invalid, NotFound
from nightshift.services.identities import principal_of
from nightshift.store.database import Database
from nightshift.store.tables import AgentRow, PhaseChangeRow, UserRow


@dataclass(frozen=True, slots=True)
class AgentView:
    id: str
    name: str
    owner: str
    owner_contact: str
    owner_active: bool
    authority_class: AuthorityClass
    trust_phase: TrustPhase
    status: str
    status_reason: str
    description: str
    boundaries: Mapping[str, Any]
    created_at: datetime


def agent_view(row: AgentRow, owner: UserRow) -> AgentView:
    return AgentView(
        id=row.id,
        name=row.name,
        owner=owner.name,
        owner_contact=owner.contact,
        owner_active=owner.active,
        authority_class=AuthorityClass(row.authority_class),
        trust_phase=TrustPhase(row.trust_phase),
        status=row.status,
        status_reason=row.status_reason,
        description=row.description,
        boundaries=row.boundaries,
        created_at=row.created_at,
    )


class AgentService:
    def __init__(self, db: Database, audit: AuditService, catalog: ActionCatalog) -> None:
        self._db = db
        self._audit = audit
        self._catalog = catalog

    def register(
        self,
        name: str,
        *,
        owner: str,
        authority_class: str,
        trust_phase: str = TrustPhase.SHADOW.value,
        description: str = "",
        boundaries: Mapping[str, Any] | None = None,
        caller: Caller | None = None,
    ) -> AgentView:
        if not AGENT_NAME.match(name):
            raise Invalid(
                "agent name must be a DNS label: 1-63 lowercase letters, digits or '-', "
                "starting and ending with a letter or digit"
            )
        try:
            klass = parse_authority_class(authority_class)
            phase = parse_trust_phase(trust_phase)
            bounds = require_valid_boundaries(
                agent_codec.boundaries_from(dict(boundaries or {})), self._catalog
            )
        except (AgentConfigError, BoundaryConflictError, ValueError) as exc:
            raise Invalid(str(exc)) from exc
        if phase.rank > class_ceiling(klass).rank:
            raise Invalid(
                f"trust phase {phase.value} is above the ceiling of authority class "
                f"{klass.value} ({class_ceiling(klass).value})"
            )
        with self._db.transaction() as s:
            owner_row = s.scalar(select(UserRow).where(UserRow.name == owner))
            if owner_row is None:
                raise NotFound(f"no user named {owner!r} to own the agent")
            try:
                register_agent(name, principal_of(owner_row), klass, phase=phase, boundaries=bounds)
            except AgentConfigError as exc:
                raise Invalid(str(exc)) from exc
            if s.scalar(select(AgentRow.id).where(AgentRow.name == name)):
                raise Conflict(f"agent {name!r} already exists")
            row = AgentRow(
                id=new_id(),
                name=name,
                owner_id=owner_row.id,
                authority_class=klass.value,
                trust_phase=phase.value,
                status="active",
                status_reason="",
                description=description,
                boundaries=agent_codec.boundaries_to(bounds),
                settings={},
            )
            s.add(row)
            s.flush()
            s.add(
                PhaseChangeRow(
                    agent_id=row.id,
                    kind="registered",
                    from_phase=None,
                    to_phase=phase.value,
                    actor=caller.name if caller else "cli",
                    reason="registered",
                )
            )
            who = caller or Caller("cli", PrincipalKind.HUMAN, frozenset())
            self._audit.append_in(
                s,
                [
                    human_entry(
                        who,
                        intent=description or "register agent",
                        decision="registered",
                        request={
                            "agent": name,
                            "owner": owner,
                            "authority_class": klass.value,
                            "trust_phase": phase.value,
                        },
                    )
                ],
            )
            return agent_view(row, owner_row)

    def get(self, name: str) -> AgentView:
        with self._db.read() as s:
            found = s.execute(
                select(AgentRow, UserRow)
                .join(UserRow, UserRow.id == AgentRow.owner_id)
                .where(AgentRow.name == name)
            ).first()
            if found is None:
                raise NotFound(f"no agent named {name!r}")
            return agent_view(found[0], found[1])

    def list(self) -> list[AgentView]:
        with self._db.read() as s:
            rows = s.execute(
                select(AgentRow, UserRow)
                .join(UserRow, UserRow.id == AgentRow.owner_id)
                .order_by(AgentRow.name)
            ).all()
            return [agent_view(a, u) for a, u in rows]
