"""Executions nobody saw finish: the control plane died between the claim and the record.

A proposal found ``executing`` after a restart (or long past any execution's
duration) has no process running it. Whether its action ran is not in the
database; it is in the world. The remediator reads the target's state and
says whether the action is in effect, and the dry run recorded before the
world changed is compared with it: a refused preview never ran. The proposal
then ends ``executed`` (in effect) or ``failed`` (not in effect, or it cannot
be told) with that reason, and an escalation says what a human must check.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from nightshift.services.escalations import system_entry
from nightshift.services.execution import (
    CLAIMED_AT,
    ROLLBACK_STARTED_AT,
    ROLLING_BACK,
    ExecutionService,
    transition,
)
from nightshift.services.proposals import EXECUTED, EXECUTING, FAILED, ROLLED_BACK
from nightshift.services.remediation_port import Observation, RemediationJob
from nightshift.store.tables import ActionProposalRow, AgentRow, as_utc

log = logging.getLogger(__name__)
# No execution takes this long (a dry run and one API call): past it, nobody runs it.
STALE_AFTER = timedelta(minutes=10)


class InterruptedExecutions:
    def __init__(self, execution: ExecutionService) -> None:
        self._x = execution
        self._p = execution.proposals
        self._db = execution.proposals.db

    def reconcile(self, *, claimed_before: datetime | None = None) -> int:
        """Settle every ``executing`` proposal (claimed before ``claimed_before``, if
        given); returns how many. At start-up nothing of this process runs one yet."""
        with self._db.read() as s:
            rows = s.execute(
                select(ActionProposalRow.id, ActionProposalRow.result).where(
                    ActionProposalRow.status == EXECUTING
                )
            ).all()
        due = [pid for pid, result in rows if _claimed_before(result, claimed_before)]
        done = sum(1 for pid in due if self._settle(pid))
        done += self._reconcile_rollbacks(claimed_before)
        if done:
            log.warning("reconciled %d interrupted execution(s)", done)
        return done

    def reconcile_stale(self, live_since: datetime | None = None) -> int:
        """Settle executions nobody alive can be running: claimed before every live
        replica started (``live_since``; claims and heartbeats are both stamped by
        the database's clock), or longer ago than any execution takes."""
        bound = datetime.now(UTC) - STALE_AFTER
        if live_since is not None:
            bound = max(bound, live_since)
        return self.reconcile(claimed_before=bound)

    def _settle(self, proposal_id: str) -> bool:
        with self._db.read() as s:
            row = s.get(ActionProposalRow, proposal_id)
            if row is None or row.status != EXECUTING:
                return False
            job = self._x.job_of(s, row)
            recorded = dict(row.result or {})
        seen = self._observe(job, recorded)
        in_effect = seen.effect == "in_effect"
        reason = _reason(job, seen)
        now = datetime.now(UTC)
        with self._db.transaction() as s:
            row = s.get(ActionProposalRow, proposal_id)
            if row is None or row.status != EXECUTING:
                return False  # someone settled it meanwhile
            result = {
                **(row.result or {}),
                "interrupted": {**seen.to_dict(), "reason": reason},
                "symptoms_after": seen.symptoms_present,
                "verified": in_effect and not seen.symptoms_present,
            }
            transition(
                s,
                row,
                {
                    "status": EXECUTED if in_effect else FAILED,
                    "executed_at": now,
                    "version": row.version + 1,
                    "result": result,
                },
            )
            escalation = self._record_and_escalate(
                s, row, job, seen, reason,
                intent=f"reconcile the interrupted {job.action} on {job.target}",
                decision="executed" if in_effect else "failed",
                extra={"execution": result},
            )  # fmt: skip
        self._p.escalations.deliver([escalation])
        return True

    def _reconcile_rollbacks(self, claimed_before: datetime | None) -> int:
        with self._db.read() as s:
            rows = s.execute(
                select(ActionProposalRow.id, ActionProposalRow.result).where(
                    ActionProposalRow.status == ROLLING_BACK
                )
            ).all()
        due = [
            pid
            for pid, result in rows
            if _claimed_before(result, claimed_before, key=ROLLBACK_STARTED_AT)
        ]
        return sum(1 for pid in due if self._settle_rollback(pid))

    def _settle_rollback(self, proposal_id: str) -> bool:
        """A rollback nobody saw finish: the forward action still in effect means the
        inverse did not take (back to ``executed``, it may be rolled back again); not
        in effect means it did (``rolled_back``); unknown stays ``executed`` for a
        human to check. Either way an escalation says so."""
        with self._db.read() as s:
            row = s.get(ActionProposalRow, proposal_id)
            if row is None or row.status != ROLLING_BACK:
                return False
            job = self._x.job_of(s, row)
        seen = self._observe(job, {})
        undone = seen.effect == "not_in_effect"
        head = f"the control plane stopped while rolling back {job.action} on {job.target}"
        if undone:
            reason = f"{head}; the rollback took effect ({seen.detail}): check {job.target}"
        elif seen.effect == "in_effect":
            reason = f"{head}; the action is still in effect ({seen.detail}): roll back again"
        else:
            reason = f"{head}; its state cannot be told ({seen.detail}): check {job.target}"
        now = datetime.now(UTC)
        with self._db.transaction() as s:
            row = s.get(ActionProposalRow, proposal_id)
            if row is None or row.status != ROLLING_BACK:
                return False
            result = {**(row.result or {}), "rollback": {"interrupted": True, "reason": reason,
                      **seen.to_dict()}}  # fmt: skip
            values: dict[str, Any] = {
                "status": ROLLED_BACK if undone else EXECUTED,
                "version": row.version + 1,
                "result": result,
            }
            if undone:
                values["rolled_back_at"] = now
            transition(s, row, values)
            escalation = self._record_and_escalate(
                s, row, job, seen, reason,
                intent=f"reconcile the interrupted rollback of {job.action}",
                decision="rolled_back" if undone else "executed",
                extra={"rollback": result["rollback"]},
            )  # fmt: skip
        self._p.escalations.deliver([escalation])
        return True

    def _record_and_escalate(
        self,
        s: Any,
        row: ActionProposalRow,
        job: RemediationJob,
        seen: Observation,
        reason: str,
        *,
        intent: str,
        decision: str,
        extra: dict[str, Any],
    ) -> str | None:
        """Audit how an interrupted step was settled, and tell a human what to check."""
        self._p.audit.append_in(
            s,
            [
                system_entry(
                    intent=intent,
                    decision=decision,
                    reason=reason,
                    request={"proposal": row.id, "observation": seen.to_dict()},
                    inv=job.investigation_id,
                )
            ],
        )
        agent = s.get(AgentRow, row.agent_id)
        assert agent is not None
        return self._p.escalations.open_in(
            s,
            agent,
            kind="remediation_interrupted",
            summary=reason,
            investigation_id=job.investigation_id,
            proposal_id=row.id,
            extra=extra,
            system=True,
        )

    def _observe(self, job: RemediationJob, recorded: dict[str, Any]) -> Observation:
        dry = recorded.get("dry_run")
        if isinstance(dry, dict) and dry.get("ok") is False:
            # The preview was refused and a refused preview is never executed.
            symptoms = self._safe_symptoms(job)
            return Observation("not_in_effect", f"its dry run refused it: {dry.get('message')}",
                               symptoms)  # fmt: skip
        try:
            return self._x.remediator.observe(job)
        except Exception as exc:  # the world cannot be read: a human must look
            log.exception("observing %s on %s failed", job.action, job.target)
            return Observation("unknown", f"its target could not be read ({exc})", True)

    def _safe_symptoms(self, job: RemediationJob) -> bool:
        try:
            return self._x.remediator.symptoms_present(job)
        except Exception:
            return True


def _claimed_before(
    result: dict[str, Any] | None, bound: datetime | None, *, key: str = CLAIMED_AT
) -> bool:
    if bound is None:
        return True
    claimed = (result or {}).get(key)
    if not isinstance(claimed, str):
        return True  # claimed before claims were stamped: long ago
    return as_utc(datetime.fromisoformat(claimed)) < bound


def _reason(job: RemediationJob, seen: Observation) -> str:
    head = f"the control plane stopped while running {job.action} on {job.target}"
    symptoms = "the symptoms persist" if seen.symptoms_present else "the symptoms are gone"
    if seen.effect == "in_effect":
        return f"{head}; it took effect ({seen.detail}) and {symptoms}: check {job.target}"
    if seen.effect == "not_in_effect":
        return (
            f"{head}; it did not take effect ({seen.detail}) and {symptoms}: "
            "decide whether it must run again (approve a new proposal)"
        )
    return (
        f"{head}; whether it took effect cannot be told ({seen.detail}): "
        f"check {job.target} by hand before acting on it again"
    )
