"""Agent -> agent hops: a running investigation's worker delegates a child
investigation to another agent, carrying the ``Nightshift-Chain`` header.

Drift containment decides before anything runs: a cycle (an agent
reappearing in its own chain), a chain deeper than the boundaries allow, a
fan-out over the limit, an exhausted budget or a kill switch trips the chain
breaker, which stops every running investigation of the chain within this one
hop and records why.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from nightshift.domain.access import Caller
from nightshift.domain.agents import Boundaries
from nightshift.domain.vocabulary import InvestigationStatus
from nightshift.governance.containment import (
    ChainContext,
    ChainHeaderError,
    check_chain,
    check_delegation,
    parse_header,
    start_chain,
    to_header,
)
from nightshift.governance.decisions import Decision
from nightshift.observability.audit_chain import AuditEntry
from nightshift.services.audit import AuditService
from nightshift.services.errors import Conflict, Forbidden, Invalid
from nightshift.services.identities import identity_of, load_agent
from nightshift.services.investigations import (
    ChainPlacement,
    InvestigationService,
    InvestigationView,
    SubmitRequest,
)
from nightshift.services.kill_switch import KillSwitchService
from nightshift.store.database import Database
from nightshift.store.tables import AgentRow, InvestigationRow, UserRow

S = InvestigationStatus
_ACTIVE = [S.QUEUED.value, S.HELD.value, S.DISPATCHED.value, S.RUNNING.value]


class ChainBroken(Conflict):
    """The chain breaker tripped; the chain was stopped."""

    code = "chain_breaker_tripped"

    def __init__(self, decision: Decision, stopped: int) -> None:
        super().__init__(
            f"{decision.reason.value}: {decision.message}; stopped {stopped} "
            "investigation(s) of the chain"
        )
        self.decision = decision


class DelegationService:
    def __init__(
        self,
        db: Database,
        investigations: InvestigationService,
        audit: AuditService,
        kill_switch: KillSwitchService,
    ) -> None:
        self._db = db
        self._investigations = investigations
        self._audit = audit
        self._kill_switch = kill_switch

    def delegate(
        self, parent_id: str, caller: Caller, req: SubmitRequest, header: str | None
    ) -> InvestigationView:
        if caller.investigation_id != parent_id:
            raise Forbidden("only this investigation's worker may delegate from it")
        with self._db.read() as s:
            parent = s.get(InvestigationRow, parent_id)
            if parent is None or parent.status not in (S.DISPATCHED.value, S.RUNNING.value):
                raise Conflict("only a running investigation may delegate")
            agent_row = s.get(AgentRow, parent.agent_id)
            assert agent_row is not None
            owner = s.get(UserRow, agent_row.owner_id)
            assert owner is not None
            parent_identity = identity_of(agent_row, owner)
            children = (
                s.scalar(
                    select(func.count())
                    .select_from(InvestigationRow)
                    .where(InvestigationRow.parent_id == parent_id)
                )
                or 0
            )
            child_row = load_agent(s, req.agent)
        chain = self._chain(parent, parent_identity.name, header, parent_identity.boundaries)
        refusal = (
            self._kill_switch.kill_switch().check(req.agent)
            or check_chain(parent_identity.name, parent_identity.boundaries, chain, 0)
            or check_delegation(req.agent, parent_identity.boundaries, chain, children)
        )
        if refusal is not None:
            stopped = self.trip(parent.chain_id, refusal, parent_identity.name)
            raise ChainBroken(refusal, stopped)
        child_identity = identity_of(*child_row)
        child_chain = chain.descend(child_identity.name)
        placement = ChainPlacement(
            chain_id=parent.chain_id,
            parent_id=parent_id,
            depth=parent.depth + 1,
            header=to_header(child_chain),
        )
        return self._investigations.submit(req, caller, placement=placement)

    def _chain(
        self, parent: InvestigationRow, agent: str, header: str | None, boundaries: Boundaries
    ) -> ChainContext:
        if header:
            try:
                chain = parse_header(header)
            except ChainHeaderError as exc:
                raise Invalid(f"malformed Nightshift-Chain header: {exc}") from exc
            if chain.chain_id != parent.chain_id:
                raise Forbidden("the Nightshift-Chain header names another chain")
            return chain
        inherited = (parent.spec or {}).get("chain_header")
        if inherited:
            return parse_header(str(inherited))
        return start_chain(parent.chain_id, agent, boundaries)

    def trip(self, chain_id: str, decision: Decision, actor: str) -> int:
        """Stop every live investigation of the chain and record why."""
        with self._db.transaction() as s:
            victims = list(
                s.scalars(
                    select(InvestigationRow.id).where(
                        InvestigationRow.chain_id == chain_id, InvestigationRow.status.in_(_ACTIVE)
                    )
                )
            )
            self._audit.append_in(
                s,
                [
                    AuditEntry(
                        at=datetime.now(UTC),
                        actor=actor,
                        owner=None,
                        authority_class=None,
                        phase=None,
                        chain_id=chain_id,
                        intent="delegation",
                        request={"chain": chain_id},
                        decision="breaker_tripped",
                        reason=decision.reason.value,
                        message=decision.message,
                        extra={"stopped": victims},
                    )
                ],
            )
        why = f"chain breaker tripped ({decision.reason.value}): {decision.message}"
        for inv_id in victims:
            self._investigations.terminate(inv_id, S.CANCELLED, why, only_if_active=True)
        return len(victims)
