"""The kill switch: global or per agent, stops everything in scope at once
and refuses new submissions until released."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from nightshift.domain.access import Caller
from nightshift.domain.vocabulary import InvestigationStatus
from nightshift.governance.containment import KillSwitch
from nightshift.services.audit import AuditService, human_entry
from nightshift.services.errors import Conflict, Invalid
from nightshift.services.identities import load_agent
from nightshift.services.investigations import InvestigationService
from nightshift.store.database import Database
from nightshift.store.tables import (
    InvestigationRow,
    KillSwitchRow,
)

S = InvestigationStatus
GLOBAL = "global"


class KillSwitchService:
    def __init__(
        self,
        db: Database,
        audit: AuditService,
        investigations: InvestigationService,
    ) -> None:
        self._db = db
        self._audit = audit
        self._investigations = investigations

    # -- kill switch --------------------------------------------------------

    def kill_switch(self) -> KillSwitch:
        with self._db.read() as s:
            rows = list(s.scalars(select(KillSwitchRow).where(KillSwitchRow.engaged.is_(True))))
        agents = frozenset(r.scope.split(":", 1)[1] for r in rows if r.scope.startswith("agent:"))
        glob = next((r for r in rows if r.scope == GLOBAL), None)
        return KillSwitch(glob is not None, agents, glob.reason if glob else "")

    def refusal(self, agent_name: str) -> str | None:
        """Admission check: why a submission for this agent is refused right now."""
        decision = self.kill_switch().check(agent_name)
        return decision.message if decision else None

    def engage(self, agent_name: str | None, caller: Caller, reason: str) -> int:
        """Stop everything in scope at once; returns how many investigations were stopped."""
        if not reason.strip():
            raise Invalid("pulling the kill switch needs a reason")
        scope = GLOBAL if agent_name is None else f"agent:{agent_name}"
        with self._db.transaction() as s:
            agent_id = None
            if agent_name is not None:
                agent_id = load_agent(s, agent_name)[0].id
            row = s.get(KillSwitchRow, scope) or KillSwitchRow(scope=scope)
            row.engaged, row.reason, row.actor, row.at = (
                True,
                reason,
                caller.name,
                datetime.now(UTC),
            )
            s.merge(row)
            q = select(InvestigationRow.id).where(
                InvestigationRow.status.in_(
                    [st.value for st in (S.QUEUED, S.HELD, S.DISPATCHED, S.RUNNING)]
                )
            )
            if agent_id is not None:
                q = q.where(InvestigationRow.agent_id == agent_id)
            victims = list(s.scalars(q))
            self._audit.append_in(
                s,
                [
                    human_entry(
                        caller,
                        intent=reason,
                        decision="engaged",
                        request={"kill_switch": scope, "stopping": len(victims)},
                    )
                ],
            )
        for inv_id in victims:
            self._investigations.terminate(
                inv_id,
                S.CANCELLED,
                f"kill switch ({scope}) engaged by {caller.name}: {reason}",
                only_if_active=True,
            )
        return len(victims)

    def release(self, agent_name: str | None, caller: Caller, reason: str) -> None:
        scope = GLOBAL if agent_name is None else f"agent:{agent_name}"
        with self._db.transaction() as s:
            row = s.get(KillSwitchRow, scope)
            if row is None or not row.engaged:
                raise Conflict(f"kill switch {scope} is not engaged")
            row.engaged, row.reason, row.actor, row.at = (
                False,
                reason,
                caller.name,
                datetime.now(UTC),
            )
            self._audit.append_in(
                s,
                [
                    human_entry(
                        caller,
                        intent=reason or "release kill switch",
                        decision="released",
                        request={"kill_switch": scope},
                    )
                ],
            )
