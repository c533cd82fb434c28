"""Running approved actions, verifying them and rolling them back.

The control plane executes with its own identity (audit actor
``nightshift-control-plane``), never the agent's worker. Steps: claim the
approved proposal (a conditional update: it runs once, whoever calls), dry-run
when the catalog says the action supports it, execute, then verify by asking
the remediator whether the incident's symptoms are still present. A result
that does not clear the symptoms escalates. An executed reversible action can
be rolled back through its catalog inverse; rollbacks are counted for the
demotion rule.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import update

from nightshift.domain.access import Caller
from nightshift.services.audit import human_entry
from nightshift.services.concealment import UNCONCEALED
from nightshift.services.control_leases import db_now
from nightshift.services.errors import Conflict, Invalid, NotFound
from nightshift.services.escalations import system_entry
from nightshift.services.proposals import (
    APPROVED,
    EXECUTED,
    EXECUTING,
    FAILED,
    ROLLED_BACK,
    ProposalService,
    ProposalView,
    sees_hidden,
    target_of,
)
from nightshift.services.remediation_port import RemediationJob, Remediator, StepResult
from nightshift.store.tables import ActionProposalRow, AgentRow, InvestigationRow, UserRow
from nightshift.worker_spec import WorkerSpec

log = logging.getLogger(__name__)
CLAIMED_AT = "claimed_at"  # in the proposal's result: when the execution started
ROLLBACK_STARTED_AT = "rollback_started_at"  # ... and when a rollback started
ROLLING_BACK = "rolling_back"


class ExecutionService:
    def __init__(self, proposals: ProposalService, remediator: Remediator) -> None:
        self._p = proposals
        self._db = proposals.db
        self.remediator = remediator

    @property
    def proposals(self) -> ProposalService:
        return self._p

    def run(self, proposal_id: str) -> ProposalView | None:
        """Execute an approved proposal once; ``None`` if someone else already claimed it."""
        job = self._claim(proposal_id)
        if job is None:
            return None
        spec = self._p.catalog.get(job.action)
        result: dict[str, Any] = {}
        try:
            result["symptoms_before"] = self.remediator.symptoms_present(job)
            ok = True
            if spec is not None and spec.dry_run:
                dry = self.remediator.dry_run(job)
                result["dry_run"] = dry.to_dict()
                ok = dry.ok
            # Stored before the world changes: a crash from here on leaves the dry run
            # for the reconciliation to compare the target's state with.
            self._progress(proposal_id, result)
            if ok:
                done = self.remediator.execute(job)
                result["execute"] = done.to_dict()
                ok = done.ok
            after = self.remediator.symptoms_present(job)
        except Exception as exc:  # the remediator failed: record it, never leave "executing"
            log.exception("executing proposal %s failed", proposal_id)
            result["error"] = f"{type(exc).__name__}: {exc}"
            ok, after = False, True
        result["symptoms_after"] = after
        result["verified"] = ok and not after
        return self._finish(proposal_id, job, ok, result)

    def rollback(self, proposal_id: str, caller: Caller, reason: str) -> ProposalView:
        """Undo an executed action through the catalog inverse."""
        if not reason.strip():
            raise Invalid("a rollback needs a reason")
        with self._db.transaction() as s:
            row = s.get(ActionProposalRow, proposal_id)
            if row is None or not (row.visible or sees_hidden(caller)):
                raise NotFound(f"no proposal {proposal_id!r}")
            if row.status != EXECUTED:
                raise Conflict(f"only an executed action can be rolled back (it is {row.status})")
            spec = self._p.catalog.get(row.action_type)
            if spec is None or spec.inverse is None:
                raise Conflict(f"{row.action_type} is irreversible: the catalog names no inverse")
            inverse = spec.inverse
            job = self.job_of(s, row)
            undo = dict(((row.result or {}).get("execute") or {}).get("undo") or {})
            result = dict(row.result or {})
            # Stamped, so the reconciler can tell a rollback nobody runs any more
            # (the process died) from one a live replica is running now.
            started = {**result, ROLLBACK_STARTED_AT: db_now(s).isoformat()}
            transition(
                s, row, {"status": ROLLING_BACK, "version": row.version + 1, "result": started}
            )
        try:
            step = self.remediator.rollback(job, inverse, undo)
            after = self.remediator.symptoms_present(job)
        except Exception as exc:  # never leave "rolling_back": the action is still in effect
            log.exception("rolling back proposal %s failed", proposal_id)
            step, after = StepResult(False, f"{type(exc).__name__}: {exc}"), True
        result["rollback"] = {
            **step.to_dict(),
            "inverse": inverse,
            "reason": reason,
            "symptoms_after": after,
        }
        now = datetime.now(UTC)
        with self._db.transaction() as s:
            row = s.get(ActionProposalRow, proposal_id)
            assert row is not None
            values: dict[str, Any] = {
                "status": ROLLED_BACK if step.ok else EXECUTED,
                "version": row.version + 1,
                "result": result,
            }
            if step.ok:
                values["rolled_back_at"] = now
            transition(s, row, values)
            self._p.audit.append_in(
                s,
                [
                    human_entry(
                        caller,
                        intent=reason,
                        decision="rolled_back" if step.ok else "failed",
                        reason=step.message,
                        investigation_id=row.investigation_id,
                        request={"proposal": row.id, "inverse": inverse, "undo": undo},
                    )
                ],
            )
        if not step.ok:
            raise Conflict(f"rollback through {inverse} failed: {step.message}")
        return self._p.get(proposal_id, UNCONCEALED)

    # -- internals ---------------------------------------------------------------

    def _claim(self, proposal_id: str) -> RemediationJob | None:
        with self._db.transaction() as s:
            row = s.get(ActionProposalRow, proposal_id)
            if row is None or row.status != APPROVED:
                return None
            # the database's clock, as the replicas' heartbeats: an execution claimed
            # before every live replica started is known to be nobody's
            now = db_now(s)
            job = replace(self.job_of(s, row), claimed_at=now)
            claimed = s.execute(
                update(ActionProposalRow)
                .where(
                    ActionProposalRow.id == proposal_id,
                    ActionProposalRow.status == APPROVED,
                    ActionProposalRow.version == row.version,
                )
                .values(
                    status=EXECUTING,
                    version=row.version + 1,
                    result={**(row.result or {}), CLAIMED_AT: now.isoformat()},
                )
                .execution_options(synchronize_session=False)
            )
            return job if claimed.rowcount == 1 else None  # type: ignore[attr-defined]

    def _progress(self, proposal_id: str, result: dict[str, Any]) -> None:
        with self._db.transaction() as s:
            row = s.get(ActionProposalRow, proposal_id)
            if row is None or row.status != EXECUTING:
                return
            s.execute(
                update(ActionProposalRow)
                .where(ActionProposalRow.id == proposal_id, ActionProposalRow.status == EXECUTING)
                .values(result={**(row.result or {}), **result})
                .execution_options(synchronize_session=False)
            )

    def _finish(
        self, proposal_id: str, job: RemediationJob, ok: bool, result: dict[str, Any]
    ) -> ProposalView:
        now = datetime.now(UTC)
        escalation = None
        with self._db.transaction() as s:
            row = s.get(ActionProposalRow, proposal_id)
            assert row is not None
            merged = {**(row.result or {}), **result}
            transition(
                s,
                row,
                {
                    "status": EXECUTED if ok else FAILED,
                    "executed_at": now,
                    "version": row.version + 1,
                    "result": merged,
                },
            )
            verdict = "verified: symptoms gone" if result["verified"] else "symptoms persist"
            self._p.audit.append_in(
                s,
                [
                    system_entry(
                        intent=f"execute approved {job.action} on {job.target}",
                        decision="executed" if ok else "failed",
                        reason=verdict if ok else "execution failed",
                        request={
                            "proposal": proposal_id,
                            "action": job.action,
                            "target": job.target.to_dict(),
                            "params": dict(job.params),
                        },
                        inv=job.investigation_id,
                    )
                ],
            )
            if not result["verified"]:
                agent = s.get(AgentRow, row.agent_id)
                assert agent is not None
                what = "executed but the symptoms persist" if ok else "failed"
                escalation = self._p.escalations.open_in(
                    s,
                    agent,
                    kind="remediation_unverified" if ok else "remediation_failed",
                    summary=f"{job.action} on {job.target} {what}",
                    investigation_id=job.investigation_id,
                    proposal_id=proposal_id,
                    extra={"execution": merged},
                )
        self._p.escalations.deliver([escalation])
        return self._p.get(proposal_id, UNCONCEALED)

    @staticmethod
    def job_of(s: Any, row: ActionProposalRow) -> RemediationJob:
        inv = s.get(InvestigationRow, row.investigation_id)
        agent = s.get(AgentRow, row.agent_id)
        sources = WorkerSpec.model_validate(inv.spec).sources if inv is not None else ()
        claimed = (row.result or {}).get(CLAIMED_AT)
        return RemediationJob(
            investigation_id=row.investigation_id,
            action=row.action_type,
            target=target_of(row.target),
            params=dict(row.params or {}),
            sources=sources,
            agent=agent.name if agent is not None else "",
            # The agent's phase now, not at the investigation: a demotion since then
            # must take the remediation rights with it.
            trust_phase=agent.trust_phase if agent is not None else "",
            claimed_at=datetime.fromisoformat(claimed) if isinstance(claimed, str) else None,
            owner=_user_name(s, agent.owner_id) if agent is not None else "",
            approved_by=_user_name(s, row.decided_by) if row.decided_by else "",
            decision=_decision_text(row.decision or {}),
            proposal_id=row.id,
        )


def _decision_text(decision: dict[str, Any]) -> str:
    """The policy decision as one line: "require_approval (approval_required)"."""
    outcome, reason = decision.get("outcome", ""), decision.get("reason", "")
    return f"{outcome} ({reason})" if reason else str(outcome)


def _user_name(s: Any, user_id: str) -> str:
    user = s.get(UserRow, user_id)
    return user.name if user is not None else user_id


def transition(s: Any, row: ActionProposalRow, values: dict[str, Any]) -> None:
    done = s.execute(
        update(ActionProposalRow)
        .where(ActionProposalRow.id == row.id, ActionProposalRow.version == row.version)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:
        raise Conflict(f"proposal {row.id} changed concurrently; nothing done")
    s.expire(row)
