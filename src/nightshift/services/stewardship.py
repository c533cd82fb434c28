"""Agent stewardship: who owns an agent, whether it may act, and the
configuration people change (boundaries, thresholds). Every change is audited
in the same transaction; suspension holds the agent's queued investigations.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from nightshift.domain import agent_codec, thresholds_codec
from nightshift.domain.access import Caller
from nightshift.domain.actions import ActionCatalog
from nightshift.domain.agents import (
    OWNER_INACTIVE_REASON,
    AgentConfigError,
    AgentIdentity,
    AgentStatus,
    transfer_ownership,
)
from nightshift.domain.vocabulary import InvestigationStatus
from nightshift.governance.boundaries import BoundaryConflictError, require_valid_boundaries
from nightshift.services.audit import AuditService, human_entry
from nightshift.services.errors import Conflict, Invalid, NotFound
from nightshift.services.identities import identity_of, load_agent, principal_of
from nightshift.services.investigations import InvestigationService
from nightshift.store.database import Database
from nightshift.store.tables import (
    AgentRow,
    InvestigationRow,
    ReviewItemRow,
    UserRow,
    as_utc,
)

S = InvestigationStatus


@dataclass(frozen=True, slots=True)
class ReviewItem:
    """One entry of the human-review queue, as readers see it."""

    id: str
    kind: str
    agent_id: str
    investigation_id: str | None
    summary: str
    payload: Mapping[str, Any]
    status: str
    created_at: datetime


class StewardshipService:
    def __init__(
        self,
        db: Database,
        audit: AuditService,
        investigations: InvestigationService,
        catalog: ActionCatalog,
    ) -> None:
        self._db = db
        self._audit = audit
        self._investigations = investigations
        self._catalog = catalog

    def identity(self, name: str) -> AgentIdentity:
        with self._db.read() as s:
            agent, owner = load_agent(s, name)
            return identity_of(agent, owner)

    # -- owners and suspension ---------------------------------------------

    def deactivate_user(self, name: str, caller: Caller, reason: str = "") -> list[str]:
        """Deactivate a user; every agent they own is suspended and its queue held."""
        with self._db.transaction() as s:
            user = s.scalar(select(UserRow).where(UserRow.name == name).with_for_update())
            if user is None:
                raise NotFound(f"no user named {name!r}")
            user.active = False
            owned = list(s.scalars(select(AgentRow).where(AgentRow.owner_id == user.id)))
            for agent in owned:
                if agent.status == AgentStatus.ACTIVE.value:
                    agent.status = AgentStatus.SUSPENDED.value
                    agent.status_reason = OWNER_INACTIVE_REASON
                self._hold_queue(s, agent, f"owner {name} deactivated; transfer ownership")
            self._audit.append_in(
                s,
                [
                    human_entry(
                        caller,
                        intent=reason or "deactivate user",
                        request={"deactivate_user": name},
                        extra={"suspended_agents": [a.name for a in owned]},
                    )
                ],
            )
            return [a.name for a in owned]

    def activate_user(self, name: str, caller: Caller) -> None:
        with self._db.transaction() as s:
            user = s.scalar(select(UserRow).where(UserRow.name == name))
            if user is None:
                raise NotFound(f"no user named {name!r}")
            user.active = True
            self._audit.append_in(
                s, [human_entry(caller, intent="reactivate user", request={"activate_user": name})]
            )

    def transfer(self, agent_name: str, new_owner: str, caller: Caller, reason: str) -> None:
        """Hand an agent to another accountable human (lifts an owner-inactive suspension)."""
        with self._db.transaction() as s:
            agent, old_owner = load_agent(s, agent_name, lock=True)
            owner = s.scalar(select(UserRow).where(UserRow.name == new_owner))
            if owner is None:
                raise NotFound(f"no user named {new_owner!r}")
            try:
                moved = transfer_ownership(identity_of(agent, old_owner), principal_of(owner))
            except AgentConfigError as exc:
                raise Invalid(str(exc)) from exc
            agent.owner_id = owner.id
            agent.status = moved.status.value
            agent.status_reason = moved.suspended_reason or ""
            if moved.status is AgentStatus.ACTIVE:
                self._release_queue(s, agent)
            self._audit.append_in(
                s,
                [
                    human_entry(
                        caller,
                        intent=reason or "transfer ownership",
                        request={"transfer": agent_name, "from": old_owner.name, "to": new_owner},
                    )
                ],
            )

    def suspend(self, agent_name: str, caller: Caller, reason: str) -> None:
        if not reason.strip():
            raise Invalid("a suspension needs a reason")
        with self._db.transaction() as s:
            agent, _ = load_agent(s, agent_name, lock=True)
            agent.status = AgentStatus.SUSPENDED.value
            agent.status_reason = reason.strip()
            self._hold_queue(s, agent, f"agent suspended: {reason.strip()}")
            self._audit.append_in(
                s, [human_entry(caller, intent=reason, request={"suspend": agent_name})]
            )

    def resume(self, agent_name: str, caller: Caller) -> None:
        with self._db.transaction() as s:
            agent, owner = load_agent(s, agent_name, lock=True)
            if not owner.active:
                raise Conflict(
                    f"owner {owner.name} is inactive; transfer ownership of {agent_name} first"
                )
            agent.status = AgentStatus.ACTIVE.value
            agent.status_reason = ""
            self._release_queue(s, agent)
            self._audit.append_in(
                s, [human_entry(caller, intent="resume agent", request={"resume": agent_name})]
            )

    def _hold_queue(self, s: Session, agent: AgentRow, reason: str) -> None:
        for row in s.scalars(
            select(InvestigationRow).where(
                InvestigationRow.agent_id == agent.id, InvestigationRow.status == S.QUEUED.value
            )
        ):
            self._investigations.transition(s, row, S.HELD, reason)

    def _release_queue(self, s: Session, agent: AgentRow) -> None:
        for row in s.scalars(
            select(InvestigationRow).where(
                InvestigationRow.agent_id == agent.id, InvestigationRow.status == S.HELD.value
            )
        ):
            self._investigations.transition(s, row, S.QUEUED, "released: agent may act again")

    # -- boundaries and thresholds (configuration, changed by people) ---------

    def set_boundaries(self, agent_name: str, data: dict[str, Any], caller: Caller) -> None:
        try:
            boundaries = require_valid_boundaries(agent_codec.boundaries_from(data), self._catalog)
        except (ValueError, BoundaryConflictError) as exc:
            raise Invalid(str(exc)) from exc
        with self._db.transaction() as s:
            agent, _ = load_agent(s, agent_name, lock=True)
            before = dict(agent.boundaries or {})
            agent.boundaries = agent_codec.boundaries_to(boundaries)
            self._audit.append_in(
                s,
                [
                    human_entry(
                        caller,
                        intent="change boundaries",
                        request={"agent": agent_name, "before": before, "after": agent.boundaries},
                    )
                ],
            )

    def set_thresholds(self, agent_name: str, data: dict[str, Any], caller: Caller) -> None:
        """Change the thresholds ``data`` names; every other value stays as stored.

        The update is validated on its own first, so its errors name its own
        fields, then merged onto the stored values and validated as a whole."""
        try:
            agent_codec.thresholds_from(data)
        except ValueError as exc:
            raise Invalid(str(exc)) from exc
        with self._db.transaction() as s:
            agent, _ = load_agent(s, agent_name, lock=True)
            settings = dict(agent.settings or {})
            before = dict(settings.get("thresholds") or {})
            try:
                thresholds = agent_codec.thresholds_from(thresholds_codec.merged(before, data))
            except ValueError as exc:
                raise Invalid(f"stored thresholds with this change: {exc}") from exc
            settings["thresholds"] = agent_codec.thresholds_to(thresholds)
            agent.settings = settings
            self._audit.append_in(
                s,
                [
                    human_entry(
                        caller,
                        intent="change thresholds",
                        request={"agent": agent_name, "set": data},
                    )
                ],
            )

    def thresholds(self, agent_name: str) -> dict[str, Any]:
        """The agent's effective thresholds (seed defaults where none were set)."""
        with self._db.read() as s:
            agent, _ = load_agent(s, agent_name)
            stored = (agent.settings or {}).get("thresholds") or {}
        try:
            return agent_codec.thresholds_to(agent_codec.thresholds_from(stored))
        except ValueError as exc:
            raise Invalid(f"stored thresholds of {agent_name} are invalid: {exc}") from exc

    def set_llm(self, agent_name: str, config: dict[str, Any] | None, caller: Caller) -> None:
        """Set (or with None, remove) the agent's model configuration; keys stay in the broker."""
        from nightshift.model_backends.factory import LLMConfigError, validate_config

        if config is not None:
            try:
                validate_config(config)
            except LLMConfigError as exc:
                raise Invalid(str(exc)) from exc
        with self._db.transaction() as s:
            agent, _ = load_agent(s, agent_name, lock=True)
            settings = dict(agent.settings or {})
            settings.pop("llm", None)
            if config is not None:
                settings["llm"] = dict(config)
            agent.settings = settings
            self._audit.append_in(
                s,
                [
                    human_entry(
                        caller,
                        intent="change the agent's model configuration",
                        request={"agent": agent_name, "llm": config},
                    )
                ],
            )

    def llm_config(self, agent_name: str) -> dict[str, Any] | None:
        with self._db.read() as s:
            agent, _ = load_agent(s, agent_name)
            raw = (agent.settings or {}).get("llm")
            return dict(raw) if raw else None

    # -- review queue ----------------------------------------------------------

    def reviews(self, status: str = "open", kind: str | None = None) -> Sequence[ReviewItem]:
        with self._db.read() as s:
            q = select(ReviewItemRow).where(ReviewItemRow.status == status)
            if kind:
                q = q.where(ReviewItemRow.kind == kind)
            return [
                ReviewItem(
                    r.id,
                    r.kind,
                    r.agent_id,
                    r.investigation_id,
                    r.summary,
                    dict(r.payload or {}),
                    r.status,
                    as_utc(r.created_at),
                )
                for r in s.scalars(q.order_by(ReviewItemRow.created_at))
            ]
