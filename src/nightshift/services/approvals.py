"""Human decisions on approval requests: approve (as asked, or a modified
target within scope), reject with a reason, and expiry.

Exactly one decision wins: every transition is a conditional UPDATE on the
row's status and version (optimistic concurrency), so two operators
approving at once get one success and one 409, on SQLite and PostgreSQL
alike, and the action is executed once. Refusals are audited too.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from nightshift.domain.access import Caller, effective_roles
from nightshift.domain.actions import ActionProposal
from nightshift.domain.agents import Principal
from nightshift.domain.diagnosis import ResourceRef
from nightshift.domain.vocabulary import PrincipalKind, Role
from nightshift.governance.containment import start_chain
from nightshift.governance.decisions import Outcome
from nightshift.governance.permissions import may_approve
from nightshift.governance.policy import ActionRequest, PolicyContext, decide
from nightshift.services.audit import human_entry
from nightshift.services.concealment import UNCONCEALED
from nightshift.services.errors import Conflict, Forbidden, Invalid, NotFound
from nightshift.services.escalations import system_entry
from nightshift.services.gateway_holds import HELD_PREFIX, held_call_refusal, is_held_call
from nightshift.services.identities import identity_of
from nightshift.services.proposals import (
    APPROVED,
    BATCHED,
    EXPIRED,
    PENDING,
    REJECTED,
    ProposalService,
    ProposalView,
    expired,
    sees_hidden,
    target_of,
)
from nightshift.store.tables import ActionProposalRow, AgentRow, InvestigationRow, UserRow

RESUME_AFTER = timedelta(seconds=30)  # an approval this old that has not started was lost


def approver_principal(caller: Caller, user: UserRow | None) -> Principal:
    """The approver as governance sees it; implied roles (admin -> operator) count."""
    if user is None:
        return Principal(caller.name, caller.name, PrincipalKind.SERVICE, frozenset(), None, False)
    return Principal(
        id=user.name,
        display_name=user.name,
        kind=PrincipalKind(user.kind),
        roles=effective_roles(frozenset(Role(r) for r in user.roles)),
        contact=user.contact or None,
        active=user.active,
    )


class ApprovalService:
    def __init__(self, proposals: ProposalService) -> None:
        self._p = proposals
        self._db = proposals.db
        self._audit = proposals.audit

    def approve(
        self,
        proposal_id: str,
        caller: Caller,
        *,
        reason: str = "",
        target: ResourceRef | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> ProposalView:
        """Approve as asked, or with a modified target / params re-decided by policy."""
        try:
            held = self._approve(proposal_id, caller, reason, target, params)
        except Forbidden as exc:
            self._refused(caller, proposal_id, str(exc))
            raise
        # A held gateway call is forwarded by the gateway process that holds it.
        if self._p.on_approved is not None and not held:
            self._p.on_approved(proposal_id)
        return self._p.get(proposal_id, UNCONCEALED)

    def _approve(
        self,
        proposal_id: str,
        caller: Caller,
        reason: str,
        target: ResourceRef | None,
        params: Mapping[str, Any] | None,
    ) -> bool:
        """Returns whether the approved request is a held gateway call."""
        now = datetime.now(UTC)
        kill_switch = self._p.kill_switch()
        with self._db.transaction() as s:
            row, agent = self._pending(s, proposal_id, caller, now)
            identity = identity_of(agent, _owner(s, agent))
            self._may_decide(s, caller, identity, row, "approve")
            if is_held_call(row.action_type):
                refused = held_call_refusal(identity, kill_switch)
                self._approve_held(s, caller, row, reason, target, params, refused)
                return True
            new_target = target or target_of(row.target)
            new_params = dict(params) if params is not None else dict(row.params or {})
            modified = new_target != target_of(row.target) or new_params != dict(row.params or {})
            # Decided again as it would now run: a modified target must be in scope, and
            # a kill switch, suspension or demotion since the request also refuses it.
            inv = s.get(InvestigationRow, row.investigation_id)
            assert inv is not None
            proposal = ActionProposal(
                row.action_type, new_target, row.confidence, row.intent.get("hypothesis_id")
            )
            context = PolicyContext(
                chain=start_chain(inv.chain_id, agent.name, identity.boundaries),
                catalog=self._p.catalog,
                kill_switch=kill_switch,
            )
            decision = decide(identity, ActionRequest(proposal), context)
            if decision.outcome is Outcome.DENY:
                what = f"the modified target {new_target}" if modified else "this request"
                raise Forbidden(
                    f"{what} is refused by policy ({decision.reason.value}): {decision.message}"
                )
            values: dict[str, Any] = {
                "status": APPROVED,
                "version": row.version + 1,
                "decided_by": caller.user_id,
                "decided_at": now,
                "decision_reason": reason or "approved",
            }
            if modified:
                values |= {
                    "target": new_target.to_dict(),
                    "params": new_params,
                    "result": {"modified_from": {"target": row.target, "params": row.params}},
                }
            self._transition(s, row, values)
            self._audit.append_in(
                s,
                [
                    human_entry(
                        caller,
                        intent=reason or "approved",
                        decision="approved",
                        request={
                            "proposal": row.id,
                            "action": row.action_type,
                            "target": new_target.to_dict(),
                            "params": new_params,
                            "modified": modified,
                        },
                        investigation_id=row.investigation_id,
                    )
                ],
            )
        return False

    def _approve_held(
        self,
        s: Session,
        caller: Caller,
        row: ActionProposalRow,
        reason: str,
        target: ResourceRef | None,
        params: Mapping[str, Any] | None,
        refused: str | None,
    ) -> None:
        """A held gateway call (services/gateway_holds.py) is approved as asked: its
        arguments wait in the gateway's memory, so there is nothing to modify."""
        same_target = target is None or target == target_of(row.target)
        if not same_target or (params is not None and dict(params) != dict(row.params or {})):
            raise Invalid("a held gateway call is approved as asked (no modified target/params)")
        if refused is not None:
            raise Forbidden(f"this held call is refused now ({refused})")
        values = {
            "status": APPROVED,
            "version": row.version + 1,
            "decided_by": caller.user_id,
            "decided_at": datetime.now(UTC),
            "decision_reason": reason or "approved",
        }
        self._transition(s, row, values)
        request = {"proposal": row.id, "action": row.action_type, "params": dict(row.params or {})}
        entry = human_entry(
            caller,
            intent=reason or "approved",
            decision="approved",
            request=request,
            investigation_id=row.investigation_id,
        )
        self._audit.append_in(s, [entry])

    def reject(self, proposal_id: str, caller: Caller, *, reason: str) -> ProposalView:
        if not reason.strip():
            raise Invalid("rejecting an approval request needs a reason")
        now = datetime.now(UTC)
        try:
            with self._db.transaction() as s:
                row, agent = self._pending(s, proposal_id, caller, now)
                self._may_decide(s, caller, identity_of(agent, _owner(s, agent)), row, "reject")
        except Forbidden as exc:
            self._refused(caller, proposal_id, str(exc))
            raise
        with self._db.transaction() as s:
            row, agent = self._pending(s, proposal_id, caller, now)
            self._transition(
                s,
                row,
                {
                    "status": REJECTED,
                    "version": row.version + 1,
                    "decided_by": caller.user_id,
                    "decided_at": now,
                    "decision_reason": reason,
                },
            )
            self._audit.append_in(
                s,
                [
                    human_entry(
                        caller,
                        intent=reason,
                        decision="rejected",
                        request={
                            "proposal": row.id,
                            "action": row.action_type,
                            "target": row.target,
                        },
                        investigation_id=row.investigation_id,
                    )
                ],
            )
        return self._p.get(proposal_id, UNCONCEALED)

    def expire_due(self, now: datetime | None = None) -> int:
        """For the reconciler: expire approval requests past their TTL (each one
        escalates), and run approved actions that never started (the process
        died between the approval and the execution). Returns how many expired."""
        now = now or datetime.now(UTC)
        self._resume_approved(now)
        with self._db.read() as s:
            due = list(
                s.scalars(
                    select(ActionProposalRow.id).where(
                        ActionProposalRow.status == PENDING, ActionProposalRow.expires_at <= now
                    )
                )
            )
        done = 0
        for proposal_id in due:
            with self._db.transaction() as s:
                row = s.get(ActionProposalRow, proposal_id)
                if row is None or row.status != PENDING:
                    continue
                agent = s.get(AgentRow, row.agent_id)
                assert agent is not None
                self._transition(
                    s,
                    row,
                    {
                        "status": EXPIRED,
                        "version": row.version + 1,
                        "decided_at": now,
                        "decision_reason": "no decision before it expired",
                    },
                )
                self._audit.append_in(
                    s,
                    [
                        system_entry(
                            intent="approval request expired",
                            decision="expired",
                            request={"proposal": row.id, "action": row.action_type},
                            inv=row.investigation_id,
                        )
                    ],
                )
                esc = self._p.escalations.open_in(
                    s,
                    agent,
                    kind="approval_expired",
                    summary=f"nobody decided {row.action_type} on {target_of(row.target)} "
                    f"proposed by {agent.name} before it expired",
                    investigation_id=row.investigation_id,
                    proposal_id=row.id,
                    extra={
                        "proposal": {
                            "action": row.action_type,
                            "target": row.target,
                            "confidence": row.confidence,
                        }
                    },
                )
            self._p.escalations.deliver([esc])
            done += 1
        return done

    def _resume_approved(self, now: datetime) -> None:
        if self._p.on_approved is None:
            return
        with self._db.read() as s:
            stale = list(
                s.scalars(
                    select(ActionProposalRow.id).where(
                        ActionProposalRow.status == APPROVED,
                        ActionProposalRow.decided_at <= now - RESUME_AFTER,
                        # the gateway that held the call forwards it, or nobody does
                        ActionProposalRow.action_type.not_like(HELD_PREFIX + "%"),
                    )
                )
            )
        for proposal_id in stale:
            self._p.on_approved(proposal_id)  # claims by conditional update: runs once

    # -- internals ---------------------------------------------------------------

    def _pending(
        self, s: Session, proposal_id: str, caller: Caller, now: datetime
    ) -> tuple[ActionProposalRow, AgentRow]:
        row = s.get(ActionProposalRow, proposal_id)
        if row is None or not (row.visible or sees_hidden(caller)):
            raise NotFound(f"no approval request {proposal_id!r}")
        if row.status == BATCHED:
            raise Conflict(f"this request joined {row.batched_into}; decide that one")
        if row.status != PENDING:
            what = "expired" if row.status == EXPIRED else f"already {row.status}"
            if row.expires_at is None and row.decided_at is None:
                what = f"not an approval request (it is {row.status})"
            raise Conflict(f"approval request {proposal_id} is {what}")
        if expired(row, now):
            raise Conflict(f"approval request {proposal_id} has expired")
        agent = s.get(AgentRow, row.agent_id)
        assert agent is not None
        return row, agent

    def _may_decide(
        self, s: Session, caller: Caller, identity: Any, row: ActionProposalRow, verb: str
    ) -> None:
        user = s.get(UserRow, caller.user_id) if caller.user_id else None
        verdict = may_approve(approver_principal(caller, user), identity)
        if not verdict.allowed:
            raise Forbidden(
                f"you may not {verb} this request ({verdict.reason.value}): {verdict.message}"
            )

    def _refused(self, caller: Caller, proposal_id: str, why: str) -> None:
        """Refusals are audited after the refused transaction rolled back."""
        self._audit.append(
            [
                human_entry(
                    caller,
                    intent="decide approval request",
                    decision="refused",
                    reason=why[:1000],
                    request={"proposal": proposal_id},
                )
            ]
        )

    @staticmethod
    def _transition(s: Session, row: ActionProposalRow, values: dict[str, Any]) -> None:
        done = s.execute(
            update(ActionProposalRow)
            .where(
                ActionProposalRow.id == row.id,
                ActionProposalRow.version == row.version,
                ActionProposalRow.status == row.status,
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if done.rowcount != 1:  # type: ignore[attr-defined]
            raise Conflict(f"approval request {row.id} was decided concurrently; nothing done")
        s.expire(row)


def _owner(s: Session, agent: AgentRow) -> UserRow:
    owner = s.get(UserRow, agent.owner_id)
    assert owner is not None
    return owner
