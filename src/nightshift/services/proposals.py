"""Action proposals: the agent proposes, policy decides, the control plane records.

Every proposal is decided by ``governance.policy.decide`` against the agent's
identity as stored (owner, class, phase, boundaries, thresholds) and recorded
with its decision and an audit record in the same transaction. What the
decision means here, per phase:

* shadow: ``recorded``, hidden from operators, never executed;
* assist: ``recommended``, shown, never executed;
* limited-remediation: ``pending_approval`` until a human operator decides
  (approvals.py), expiring after the configured TTL;
* autonomous-l1: ``approved`` and executed at once when in scope and at or
  above the threshold; below it ``pending_approval`` plus an escalation.

Approval fatigue: an identical pending request (same agent, action, target,
params) joins the existing one (``batched``), and new approval requests per
agent are rate limited (``suppressed``, with one escalation per hour).
"""

from __future__ import annotations

import builtins
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeAlias

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from nightshift.domain.access import Caller
from nightshift.domain.actions import ActionCatalog, ActionProposal
from nightshift.domain.diagnosis import ResourceRef
from nightshift.domain.ids import new_id
from nightshift.domain.vocabulary import InvestigationStatus, Role, TrustPhase
from nightshift.governance.containment import KILL_SWITCH_OFF, KillSwitch, start_chain
from nightshift.governance.decisions import Decision, ReasonCode
from nightshift.governance.policy import ActionRequest, PolicyContext, decide, request_to_dict
from nightshift.observability.audit_chain import decision_entry
from nightshift.services.audit import AuditService
from nightshift.services.concealment import UNCONCEALED, Reader, conceals
from nightshift.services.errors import Conflict, Forbidden, Invalid, NotFound
from nightshift.services.escalations import EscalationService
from nightshift.services.identities import identity_of
from nightshift.store.database import Database
from nightshift.store.tables import (
    ActionProposalRow,
    AgentRow,
    EscalationRow,
    InvestigationRow,
    UserRow,
    as_utc,
)

# A listing query: each proposal, its agent's name and its decider's (None while
# undecided: an outer join, which the select's type does not say).
_Listing: TypeAlias = Select[ActionProposalRow, str, str]
MAX_PROPOSALS_PER_POST = 10
MAX_PROPOSALS_PER_INVESTIGATION = 25

RECORDED, RECOMMENDED, PENDING = "recorded", "recommended", "pending_approval"
APPROVED, REJECTED, EXPIRED, DENIED = "approved", "rejected", "expired", "denied"
EXECUTING, EXECUTED, FAILED, ROLLED_BACK = "executing", "executed", "failed", "rolled_back"
BATCHED, SUPPRESSED = "batched", "suppressed"
# Denials that count as an unsafe action attempt for the shadow -> assist gate.
UNSAFE_REASONS = frozenset(
    {
        ReasonCode.OUT_OF_SCOPE.value,
        ReasonCode.UNKNOWN_ACTION.value,
        ReasonCode.CLASS_INSUFFICIENT.value,
        ReasonCode.PHASE_INSUFFICIENT.value,
        ReasonCode.INVALID_REQUEST.value,
    }
)


@dataclass(frozen=True, slots=True)
class WorkflowPolicy:
    approval_ttl: timedelta = timedelta(hours=1)
    approval_rate_per_hour: int = 20


@dataclass(frozen=True, slots=True)
class ProposalInput:
    """What the worker sends: an action on a target, the intent and the confidence."""

    action: str
    target: ResourceRef
    confidence: float
    hypothesis_id: str | None = None
    rationale: str = ""
    evidence_ids: tuple[str, ...] = ()
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ProposalView:
    id: str
    investigation_id: str
    agent: str
    action: str
    target: dict[str, Any]
    params: dict[str, Any]
    intent: dict[str, Any]
    confidence: float
    phase: TrustPhase  # the agent's phase when it proposed
    status: str
    decision: dict[str, Any]
    visible: bool
    batch_count: int
    batched_into: str | None
    decided_by: str | None
    decision_reason: str
    version: int
    created_at: datetime
    expires_at: datetime | None
    decided_at: datetime | None
    executed_at: datetime | None
    rolled_back_at: datetime | None
    result: dict[str, Any] | None


def status_for(decision: Decision) -> str:
    reason = decision.reason
    if reason is ReasonCode.SHADOW_RECORD_ONLY:
        return RECORDED
    if reason is ReasonCode.RECOMMENDATION_ONLY:
        return RECOMMENDED
    if reason is ReasonCode.AUTO_EXECUTE:
        return APPROVED
    if reason in (ReasonCode.APPROVAL_REQUIRED, ReasonCode.ESCALATE_LOW_CONFIDENCE):
        return PENDING
    return DENIED


def target_of(data: Mapping[str, Any]) -> ResourceRef:
    return ResourceRef(str(data["kind"]), str(data["name"]), data.get("namespace"))


def batch_key(agent_id: str, action: str, target: ResourceRef, params: Mapping[str, Any]) -> str:
    raw = f"{agent_id}|{action}|{target}|{json.dumps(dict(params), sort_keys=True)}"
    return raw[:128]


def sees_hidden(caller: Caller) -> bool:
    """Shadow output (hidden proposals) is for admins until reviewed."""
    return caller.has(Role.ADMIN)


def proposal_view(row: ActionProposalRow, agent: str, decided_by: str | None) -> ProposalView:
    return ProposalView(
        id=row.id,
        investigation_id=row.investigation_id,
        agent=agent,
        action=row.action_type,
        target=dict(row.target),
        params=dict(row.params or {}),
        intent=dict(row.intent),
        confidence=row.confidence,
        phase=TrustPhase(row.phase),
        status=row.status,
        decision=dict(row.decision),
        visible=row.visible,
        batch_count=row.batch_count,
        batched_into=row.batched_into,
        decided_by=decided_by,
        decision_reason=row.decision_reason,
        version=row.version,
        created_at=row.created_at,
        expires_at=row.expires_at,
        decided_at=row.decided_at,
        executed_at=row.executed_at,
        rolled_back_at=row.rolled_back_at,
        result=row.result,
    )


class ProposalService:
    def __init__(
        self,
        db: Database,
        audit: AuditService,
        escalations: EscalationService,
        catalog: ActionCatalog,
        policy: WorkflowPolicy,
        *,
        kill_switch: Callable[[], KillSwitch] = lambda: KILL_SWITCH_OFF,
        on_approved: Callable[[str], object] | None = None,
    ) -> None:
        self.db = db
        self.audit = audit
        self.escalations = escalations
        self.catalog = catalog
        self.policy = policy
        self._kill_switch = kill_switch
        # Set by the composition root: runs an approved proposal (execution.py).
        self.on_approved = on_approved

    def kill_switch(self) -> KillSwitch:
        return self._kill_switch()

    def propose(
        self, inv_id: str, caller: Caller, items: Sequence[ProposalInput]
    ) -> list[ProposalView]:
        if caller.investigation_id != inv_id:
            raise Forbidden("only this investigation's worker may propose actions for it")
        if not 1 <= len(items) <= MAX_PROPOSALS_PER_POST:
            raise Invalid(f"send 1 to {MAX_PROPOSALS_PER_POST} proposals per request")
        now = datetime.now(UTC)
        escalations: list[str | None] = []
        approved: list[str] = []
        kill_switch = self.kill_switch()  # read before taking the write lock
        with self.db.transaction() as s:
            inv = s.get(InvestigationRow, inv_id, with_for_update=True)
            if inv is None:
                raise NotFound(f"no investigation {inv_id!r}")
            if InvestigationStatus(inv.status).terminal:
                raise Conflict(f"investigation is already {inv.status}")
            have = s.scalar(
                select(func.count())
                .select_from(ActionProposalRow)
                .where(ActionProposalRow.investigation_id == inv_id)
            )
            if (have or 0) + len(items) > MAX_PROPOSALS_PER_INVESTIGATION:
                raise Invalid(
                    f"at most {MAX_PROPOSALS_PER_INVESTIGATION} proposals per investigation"
                )
            agent = s.get(AgentRow, inv.agent_id)
            assert agent is not None
            owner = s.get(UserRow, agent.owner_id)
            assert owner is not None
            identity = identity_of(agent, owner)
            context = PolicyContext(
                chain=start_chain(inv.chain_id, agent.name, identity.boundaries),
                catalog=self.catalog,
                kill_switch=kill_switch,
            )
            rows = []
            for item in items:
                if not math.isfinite(item.confidence):
                    raise Invalid("confidence must be a finite number")
                proposal = ActionProposal(
                    action=item.action,
                    target=item.target,
                    confidence=item.confidence,
                    hypothesis_id=item.hypothesis_id,
                    rationale=item.rationale,
                )
                request = ActionRequest(proposal)
                decision = decide(identity, request, context)
                row = self._record(s, inv, agent, item, decision, now)
                entry = decision_entry(
                    at=now,
                    agent=identity,
                    request={
                        **request_to_dict(request),
                        "proposal_id": row.id,
                        "params": dict(item.params),
                    },
                    decision=decision,
                    intent=item.rationale or f"fix hypothesis {item.hypothesis_id}",
                    chain_id=inv.chain_id,
                )
                # Indexed by investigation, so `audit explain` shows the decision.
                extra = {**entry.extra, "investigation_id": inv_id}
                self.audit.append_in(s, [replace(entry, extra=extra)])
                escalations += self._follow_up(s, agent, inv_id, row, decision, now)
                if row.status == APPROVED:
                    approved.append(row.id)
                rows.append(row)
            views = [proposal_view(r, agent.name, None) for r in rows]
        self.escalations.deliver(escalations)
        for proposal_id in approved:
            if self.on_approved is not None:
                self.on_approved(proposal_id)
        return [self.get(v.id, UNCONCEALED) for v in views]

    def _record(
        self,
        s: Session,
        inv: InvestigationRow,
        agent: AgentRow,
        item: ProposalInput,
        decision: Decision,
        now: datetime,
    ) -> ActionProposalRow:
        status = status_for(decision)
        key = batch_key(agent.id, item.action, item.target, item.params)
        row = ActionProposalRow(
            id=new_id(),
            investigation_id=inv.id,
            agent_id=agent.id,
            action_type=item.action,
            target=item.target.to_dict(),
            params=dict(item.params),
            intent={
                "hypothesis_id": item.hypothesis_id,
                "rationale": item.rationale,
                "evidence_ids": list(item.evidence_ids),
            },
            confidence=item.confidence,
            phase=agent.trust_phase,
            status=status,
            decision=decision.to_dict(),
            batch_key=key,
            visible=decision.visible_to_operators,
            version=0,
            batch_count=1,
            created_at=now,
        )
        if status == APPROVED:
            row.decided_at, row.decision_reason = now, "executed automatically (autonomous-l1)"
        if status == PENDING:
            self._pending(s, agent, row, now)
        s.add(row)
        s.flush()
        return row

    def _pending(self, s: Session, agent: AgentRow, row: ActionProposalRow, now: datetime) -> None:
        open_ = s.scalar(
            select(ActionProposalRow)
            .where(
                ActionProposalRow.batch_key == row.batch_key,
                ActionProposalRow.status == PENDING,
                ActionProposalRow.expires_at > now,
            )
            .order_by(ActionProposalRow.created_at)
            .limit(1)
            .with_for_update()
        )
        if open_ is not None:
            row.status, row.batched_into = BATCHED, open_.id
            row.decision_reason = f"joined the identical pending request {open_.id}"
            open_.batch_count += 1
            return
        recent = s.scalar(
            select(func.count())
            .select_from(ActionProposalRow)
            .where(
                ActionProposalRow.agent_id == agent.id,
                ActionProposalRow.created_at > now - timedelta(hours=1),
                ActionProposalRow.expires_at.is_not(None),
                ActionProposalRow.batched_into.is_(None),
            )
        )
        if (recent or 0) >= self.policy.approval_rate_per_hour:
            row.status = SUPPRESSED
            row.decision_reason = (
                f"approval rate limit reached ({self.policy.approval_rate_per_hour} per hour "
                f"for agent {agent.name}); escalated instead of asking again"
            )
            return
        row.expires_at = now + self.policy.approval_ttl

    def _follow_up(
        self,
        s: Session,
        agent: AgentRow,
        inv_id: str,
        row: ActionProposalRow,
        decision: Decision,
        now: datetime,
    ) -> list[str | None]:
        what = f"{row.action_type} on {target_of(row.target)}"
        if decision.reason is ReasonCode.ESCALATE_LOW_CONFIDENCE and row.status == PENDING:
            kind, summary = "low_confidence", f"{agent.name} proposes {what}: {decision.message}"
        elif decision.reason is ReasonCode.OUT_OF_SCOPE:
            kind, summary = "out_of_scope", f"{agent.name} asked for {what}: {decision.message}"
        elif row.status == SUPPRESSED:
            already = s.scalar(
                select(EscalationRow.id).where(
                    EscalationRow.agent_id == agent.id,
                    EscalationRow.kind == "approval_rate_limited",
                    EscalationRow.created_at > now - timedelta(hours=1),
                )
            )
            if already:
                return []
            kind, summary = "approval_rate_limited", row.decision_reason
        else:
            return []
        return [
            self.escalations.open_in(
                s,
                agent,
                kind=kind,
                summary=summary,
                investigation_id=inv_id,
                proposal_id=row.id,
                extra={
                    "proposal": {
                        "action": row.action_type,
                        "target": row.target,
                        "confidence": row.confidence,
                        "decision": row.decision,
                    }
                },
            )
        ]

    # -- reads ------------------------------------------------------------------

    def get(self, proposal_id: str, caller: Reader) -> ProposalView:
        """A proposal of the approvals queue, if ``caller`` may see it there: a shadow
        proposal (not ``visible``) answers NotFound to all but admins; it is never
        anyone's to act on. Reviewed ones are read with the investigation
        (``of_investigation``)."""
        with self.db.read() as s:
            found = s.execute(
                select(ActionProposalRow, AgentRow.name)
                .join(AgentRow, AgentRow.id == ActionProposalRow.agent_id)
                .where(ActionProposalRow.id == proposal_id)
            ).first()
            if found is None or not (found[0].visible or _sees_hidden(caller)):
                raise NotFound(f"no approval request or proposal {proposal_id!r}")
            row = found[0]
            decider = s.get(UserRow, row.decided_by) if row.decided_by else None
            return proposal_view(row, found[1], decider.name if decider else None)

    def list(
        self,
        caller: Reader,
        *,
        status: str | None = PENDING,
        agent: str | None = None,
        investigation_id: str | None = None,
        limit: int = 50,
    ) -> list[ProposalView]:
        """The approvals queue, newest first: shadow proposals only for admins (as ``get``)."""
        q = self._query(status=status, agent=agent, investigation_id=investigation_id)
        if not _sees_hidden(caller):
            q = q.where(ActionProposalRow.visible.is_(True))
        return self._listed(q, limit)

    def of_investigation(
        self, inv_id: str, caller: Reader, *, limit: int = 200
    ) -> builtins.list[ProposalView]:
        """Every proposal of one investigation, newest first. Its shadow proposals are
        its shadow output: concealed from all but admins until it is reviewed."""
        q = self._query(status=None, agent=None, investigation_id=inv_id)
        with self.db.read() as s:
            inv = s.get(InvestigationRow, inv_id)
            reviewed_at = inv.reviewed_at if inv is not None else None
        if conceals(TrustPhase.SHADOW, reviewed_at, caller):
            q = q.where(ActionProposalRow.visible.is_(True))
        return self._listed(q, limit)

    @staticmethod
    def _query(*, status: str | None, agent: str | None, investigation_id: str | None) -> _Listing:
        q = (
            select(ActionProposalRow, AgentRow.name, UserRow.name)
            .join(AgentRow, AgentRow.id == ActionProposalRow.agent_id)
            .outerjoin(UserRow, UserRow.id == ActionProposalRow.decided_by)
        )
        if status:
            q = q.where(ActionProposalRow.status == status)
        if agent:
            q = q.where(AgentRow.name == agent)
        if investigation_id:
            q = q.where(ActionProposalRow.investigation_id == investigation_id)
        return q

    def _listed(self, q: _Listing, limit: int) -> builtins.list[ProposalView]:
        q = q.order_by(ActionProposalRow.created_at.desc(), ActionProposalRow.id).limit(limit)
        with self.db.read() as s:
            return [proposal_view(r, a, u) for r, a, u in s.execute(q).all()]


def _sees_hidden(caller: Reader) -> bool:
    """The control plane itself, or an admin (``sees_hidden``)."""
    return caller is None or sees_hidden(caller)


def expired(row: ActionProposalRow, now: datetime) -> bool:
    return row.expires_at is not None and as_utc(row.expires_at) <= now
