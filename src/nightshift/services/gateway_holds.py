"""Held gateway calls: a third-party agent's write that waits for a human.

A ``tools/call`` the gateway decides ``needs_approval`` becomes an approval
request like any other (an ``action_proposals`` row, ``pending_approval``,
expiring after the gateway's hold timeout), so the same ``approvals`` API, CLI
and console decide it, with the same rules: a human holding an approver role,
never the agent itself, exactly one decision wins. What differs is who runs it:
the gateway process that holds the agent's call claims the approved row
(``approved -> forwarding``, a conditional update, so it is forwarded once) and
forwards it to the upstream MCP server; the control plane's executor never
touches it (its action type, ``mcp:<tool>``, is no catalog action).

The arguments the upstream receives stay in the gateway's memory; the row holds
the redacted arguments a human reads. A call whose gateway process died is
never forwarded: nobody is left to send its result to.

A write the policy denies (out of scope, a tripped breaker) is recorded the
same way, as a ``denied`` proposal, as our own agents' denied proposals are: so
what a third-party agent did through the gateway (held calls executed, failed
or rejected; writes out of scope) is the evidence its phase gates and the
demotion rule read (services/evidence.py), as for our own agents.

Every held or denied call belongs to a gateway record for its chain, a terminal
investigation row that is never dispatched (it exists so the approval request
has the investigation its table requires, and so `audit explain` finds the
chain's decisions).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from nightshift.domain.agents import AgentIdentity
from nightshift.domain.ids import new_id
from nightshift.domain.vocabulary import InvestigationStatus, Tier, TrustPhase
from nightshift.governance.containment import KillSwitch
from nightshift.governance.decisions import Decision
from nightshift.observability.audit_chain import decision_entry
from nightshift.services.audit import AuditService
from nightshift.services.errors import NotFound
from nightshift.services.escalations import EscalationService, system_entry
from nightshift.services.proposals import (
    APPROVED,
    DENIED,
    EXECUTED,
    EXPIRED,
    FAILED,
    PENDING,
)
from nightshift.store.database import Database
from nightshift.store.tables import (
    ActionProposalRow,
    AgentRow,
    InvestigationRow,
    UserRow,
    as_utc,
)

HELD_PREFIX = "mcp:"  # the action type of a held call: no catalog action has a colon
# Claimed by the gateway and being forwarded. Not the executor's "executing":
# the control plane's reconciliation of interrupted executions settles those
# through its remediator, which knows nothing of an upstream MCP call.
FORWARDING = "forwarding"
GATEWAY_RECORD = "gateway"  # InvestigationRow.scenario of a chain's gateway record
_APPROVING_PHASES = (TrustPhase.LIMITED_REMEDIATION, TrustPhase.AUTONOMOUS_L1)


def is_held_call(action_type: str) -> bool:
    return action_type.startswith(HELD_PREFIX)


def held_call_refusal(identity: AgentIdentity, kill_switch: KillSwitch) -> str | None:
    """Why a held call may not be approved now (it was held for an agent that
    may act in an approving phase; a kill switch, suspension, lost owner or
    demotion since then refuses it), or None."""
    killed = kill_switch.check(identity.name)
    if killed is not None:
        return f"{killed.reason.value}: {killed.message}"
    if not identity.owner.active:
        return f"owner_inactive: owner {identity.owner.id!r} of {identity.name!r} is inactive"
    if not identity.may_act:
        return f"agent_suspended: agent {identity.name!r} is suspended"
    if identity.phase not in _APPROVING_PHASES:
        return f"phase_insufficient: agent {identity.name!r} is now in {identity.phase.value}"
    return None


@dataclass(frozen=True, slots=True)
class HeldState:
    """Where a held call stands: its status, and who decided it and why."""

    status: str
    decided_by: str | None
    reason: str


# How long after its hold ended an approved call may still wait for its gateway's
# claim (the gateway polls every few hundred ms), and how long a forwarding may
# take (one upstream call) before the gateway that claimed it is taken for gone.
CLAIM_GRACE = timedelta(minutes=1)
FORWARD_GRACE = timedelta(minutes=10)


class GatewayHolds:
    def __init__(
        self, db: Database, audit: AuditService, escalations: EscalationService | None = None
    ) -> None:
        self._db = db
        self._audit = audit
        self._escalations = escalations

    def hold(
        self,
        identity: AgentIdentity,
        request: Mapping[str, Any],
        decision: Decision,
        *,
        intent: str,
        chain_id: str,
        hold_seconds: float,
    ) -> str:
        """Open the approval request for a held call (and its audit record, in one
        transaction); returns the request's id."""
        return self._write(identity, request, decision, intent=intent, chain_id=chain_id,
                           status=PENDING, hold_seconds=hold_seconds)  # fmt: skip

    def deny(
        self,
        identity: AgentIdentity,
        request: Mapping[str, Any],
        decision: Decision,
        *,
        intent: str,
        chain_id: str,
    ) -> str:
        """Record a write the policy denied (out of scope, a tripped breaker, ...) as
        a denied proposal, as the control plane records our own agents' denied
        proposals: the phase gates and the demotion rule count them (evidence.py)."""
        return self._write(identity, request, decision, intent=intent, chain_id=chain_id,
                           status=DENIED, hold_seconds=None)  # fmt: skip

    def _write(
        self,
        identity: AgentIdentity,
        request: Mapping[str, Any],
        decision: Decision,
        *,
        intent: str,
        chain_id: str,
        status: str,
        hold_seconds: float | None,
    ) -> str:
        now = datetime.now(UTC)
        tool = str(request.get("tool") or "?")
        with self._db.transaction() as s:
            agent = s.scalar(select(AgentRow).where(AgentRow.name == identity.name))
            if agent is None:
                raise NotFound(f"no agent named {identity.name!r}")
            record = self._record(s, agent, chain_id, now)
            row = ActionProposalRow(
                id=new_id(),
                investigation_id=record,
                agent_id=agent.id,
                action_type=(HELD_PREFIX + tool)[:64],
                target={"kind": "McpTool", "name": tool, "namespace": request.get("namespace")},
                params=dict(request.get("params") or {}),
                intent={"via": "gateway", "rationale": intent[:2000],
                        "source": request.get("source"), "chain_id": chain_id},
                confidence=0.0,
                phase=identity.phase.value,
                status=status,
                decision=decision.to_dict(),
                batch_key=f"gateway|{record}|{now.timestamp()}"[:128],  # never batched
                visible=True,
                version=0,
                batch_count=1,
                created_at=now,
                expires_at=None if hold_seconds is None else now + timedelta(seconds=hold_seconds),
                decision_reason="" if status == PENDING else decision.message[:1000],
            )  # fmt: skip
            s.add(row)
            entry = decision_entry(
                at=now,
                agent=identity,
                request={**dict(request), "proposal_id": row.id},
                decision=decision,
                intent=intent[:2000],
                chain_id=chain_id,
            )
            more = {"via": "gateway", "proposal": status, "investigation_id": record}
            self._audit.append_in(s, [replace(entry, extra={**entry.extra, **more})])
        return row.id

    @staticmethod
    def _record(s: Session, agent: AgentRow, chain_id: str, now: datetime) -> str:
        chain = chain_id[:36]
        found = s.scalar(
            select(InvestigationRow.id).where(
                InvestigationRow.agent_id == agent.id,
                InvestigationRow.chain_id == chain,
                InvestigationRow.scenario == GATEWAY_RECORD,
            )
        )
        if found is not None:
            return found
        inv_id = new_id()
        s.add(
            InvestigationRow(
                id=inv_id, agent_id=agent.id,
                title=f"gateway calls of {agent.name} (chain {chain})",
                scenario=GATEWAY_RECORD, tier=Tier.SINGLE_DOMAIN.value, priority=2,
                # terminal from the start: a record of a third-party agent's calls,
                # never an investigation to dispatch
                status=InvestigationStatus.CANCELLED.value,
                reason="gateway record: a third-party agent's held calls, not an investigation",
                spec={"kind": "gateway", "domains": list((agent.boundaries or {}).get("domains")
                                                         or [])},
                chain_id=chain, trust_phase=agent.trust_phase, created_at=now, finished_at=now,
            )
        )  # fmt: skip
        s.flush()
        return inv_id

    def state(self, proposal_id: str) -> HeldState:
        with self._db.read() as s:
            row = s.get(ActionProposalRow, proposal_id)
            if row is None:
                raise NotFound(f"no held call {proposal_id!r}")
            decider = s.get(UserRow, row.decided_by) if row.decided_by else None
            return HeldState(row.status, decider.name if decider else None, row.decision_reason)

    def expire(self, proposal_id: str) -> None:
        """Expire a held call nobody decided in time (the reconciler's ``expire_due``
        may win the race; either way exactly one transition happens)."""
        now = datetime.now(UTC)
        with self._db.transaction() as s:
            row = s.get(ActionProposalRow, proposal_id)
            if row is None or row.status != PENDING:
                return
            why = "no decision before the gateway's hold timed out"
            values = {"status": EXPIRED, "decided_at": now, "decision_reason": why}
            if self._move(s, row, PENDING, values):
                entry = system_entry(
                    intent="held gateway call expired",
                    decision="expired",
                    request={"proposal": row.id, "action": row.action_type},
                    inv=row.investigation_id,
                )
                self._audit.append_in(s, [entry])

    def claim(self, proposal_id: str) -> bool:
        """Take an approved held call for forwarding; True for exactly one caller."""
        now = datetime.now(UTC)
        with self._db.transaction() as s:
            row = s.get(ActionProposalRow, proposal_id)
            if row is None or row.status != APPROVED:
                return False
            result = {**(row.result or {}), "claimed_at": now.isoformat()}
            return self._move(s, row, APPROVED, {"status": FORWARDING, "result": result})

    def finish(self, proposal_id: str, *, ok: bool, outcome: Mapping[str, Any]) -> None:
        """Record what forwarding the approved call did (executed, or failed), audited.
        ``verified`` is the upstream's own answer (no tool error): the gateway cannot
        observe the world the way the control plane's remediator does."""
        now = datetime.now(UTC)
        with self._db.transaction() as s:
            row = s.get(ActionProposalRow, proposal_id)
            if row is None or row.status != FORWARDING:
                return
            result = {**(row.result or {}), **outcome, "verified": ok}
            values = {"status": EXECUTED if ok else FAILED, "executed_at": now, "result": result}
            self._move(s, row, FORWARDING, values)
            entry = system_entry(
                intent=f"forward approved {row.action_type} through the gateway",
                decision="executed" if ok else "failed",
                reason=str(outcome.get("summary") or "")[:500],
                request={"proposal": row.id, "action": row.action_type, "params": row.params},
                inv=row.investigation_id,
            )
            self._audit.append_in(s, [entry])

    def settle_abandoned(self, now: datetime | None = None) -> int:
        """End the held calls whose gateway is gone (the control plane's leader runs
        this): approved after the agent stopped waiting, or approved and never
        claimed, ends ``failed`` with nothing forwarded; one claimed and never
        finished ends ``failed`` too, and an escalation asks a human to check the
        upstream, since the call may have reached it. Returns how many ended."""
        now = now or datetime.now(UTC)
        with self._db.read() as s:
            rows = s.scalars(
                select(ActionProposalRow).where(
                    ActionProposalRow.action_type.startswith(HELD_PREFIX),
                    ActionProposalRow.status.in_([APPROVED, FORWARDING]),
                )
            ).all()
        due = [r.id for r in rows if _abandoned(r, now)]
        return sum(1 for pid in due if self._abandon(pid, now))

    def _abandon(self, proposal_id: str, now: datetime) -> bool:
        escalation: str | None = None
        with self._db.transaction() as s:
            row = s.get(ActionProposalRow, proposal_id)
            if row is None or row.status not in (APPROVED, FORWARDING) or not _abandoned(row, now):
                return False
            was = row.status
            why = (
                "approved, but the gateway holding the agent's call was gone: nothing was forwarded"
                if was == APPROVED
                else "the gateway stopped while forwarding: whether the upstream ran the "
                "call is unknown"
            )
            result = {**(row.result or {}), "abandoned": why, "verified": False}
            if not self._move(s, row, was, {"status": FAILED, "result": result}):
                return False
            entry = system_entry(
                intent=f"settle an abandoned held call ({row.action_type})",
                decision="failed",
                reason=why,
                request={"proposal": row.id, "action": row.action_type, "was": was},
                inv=row.investigation_id,
            )
            self._audit.append_in(s, [entry])
            agent = s.get(AgentRow, row.agent_id)
            if was == FORWARDING and agent is not None and self._escalations is not None:
                escalation = self._escalations.open_in(
                    s, agent, kind="gateway_call_interrupted", proposal_id=row.id,
                    summary=f"{agent.name}: {row.action_type} {why}; check the upstream "
                    "MCP server for its effect",
                    system=True,
                )  # fmt: skip
        if self._escalations is not None:
            self._escalations.deliver([escalation])
        return True

    @staticmethod
    def _move(s: Session, row: ActionProposalRow, status: str, values: dict[str, Any]) -> bool:
        done = s.execute(
            update(ActionProposalRow)
            .where(
                ActionProposalRow.id == row.id,
                ActionProposalRow.status == status,
                ActionProposalRow.version == row.version,
            )
            .values(**values, version=row.version + 1)
            .execution_options(synchronize_session=False)
        )
        return bool(done.rowcount == 1)  # type: ignore[attr-defined]


def _abandoned(row: ActionProposalRow, now: datetime) -> bool:
    if row.status == APPROVED:
        ends = as_utc(row.expires_at) if row.expires_at is not None else None
        return ends is not None and ends + CLAIM_GRACE < now
    claimed = (row.result or {}).get("claimed_at")
    if not isinstance(claimed, str):
        return True  # claimed before claims were stamped
    return as_utc(datetime.fromisoformat(claimed)) + FORWARD_GRACE < now
