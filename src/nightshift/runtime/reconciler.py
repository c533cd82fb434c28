"""Keeps the table honest about the world: after a restart, and periodically.

On start: a unit that was dispatched but never reported is re-queued; one
that was running lost its worker (nobody watched it while we were down), so
it is stopped and failed with that reason; a proposal left ``executing`` is
settled from the target's state (services/interrupted.py). Periodically: anything past its
deadline by more than a grace period is stopped and marked so, whatever the
executor believes.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from nightshift.domain.vocabulary import InvestigationStatus
from nightshift.runtime.executors.protocol import Executor, WorkerExit
from nightshift.services.credentials import CredentialService
from nightshift.services.interrupted import InterruptedExecutions
from nightshift.services.investigations import InvestigationService
from nightshift.services.principals import revoke_worker_tokens
from nightshift.store.database import Database
from nightshift.store.tables import InvestigationRow, as_utc

log = logging.getLogger(__name__)
S = InvestigationStatus
DEADLINE_GRACE = timedelta(seconds=15)


class Reconciler:
    def __init__(
        self,
        db: Database,
        investigations: InvestigationService,
        executor: Executor,
        credentials: CredentialService | None = None,
    ) -> None:
        self._credentials = credentials
        self._db = db
        self._investigations = investigations
        self._executor = executor
        # Set by the composition root once execution is wired (bootstrap._wire_workflow).
        self.executions: InterruptedExecutions | None = None

    def recover_after_restart(self) -> dict[str, int]:
        """Run once before dispatching starts."""
        requeued = failed = 0
        with self._db.read() as s:
            rows = s.execute(
                select(
                    InvestigationRow.id, InvestigationRow.status, InvestigationRow.worker_ref
                ).where(InvestigationRow.status.in_([S.DISPATCHED.value, S.RUNNING.value]))
            ).all()
        for inv_id, status, ref in rows:
            had_worker = ref is not None and self._executor.adopt_or_kill_orphan(ref)
            if status == S.DISPATCHED.value:
                with self._db.transaction() as s:
                    row = s.get(InvestigationRow, inv_id, with_for_update=True)
                    if row is None or row.status != S.DISPATCHED.value:
                        continue
                    revoke_worker_tokens(s, inv_id)
                    row.worker_ref = None
                    self._investigations.transition(
                        s, row, S.QUEUED,
                        "re-queued after a control-plane restart: its worker never reported",
                    )  # fmt: skip
                requeued += 1
            else:
                why = "lost worker: the control plane restarted while it ran"
                if had_worker:
                    why += " (the orphaned worker was stopped)"
                self._investigations.terminate(inv_id, S.FAILED, why, only_if_active=True)
                failed += 1
        if requeued or failed:
            log.warning("recovered after restart: %d re-queued, %d failed", requeued, failed)
        # Nothing of this process executes yet: every "executing" proposal was interrupted.
        settled = self.executions.reconcile() if self.executions is not None else 0
        return {"requeued": requeued, "failed": failed, "executions_settled": settled}

    def settle_stale_executions(self) -> int:
        """An execution claimed long ago that never ended (another replica died)."""
        return self.executions.reconcile_stale() if self.executions is not None else 0

    def retry_revocations(self) -> int:
        """Leases whose revocation failed (backend down) are retried until revoked."""
        return self._credentials.retry_pending() if self._credentials else 0

    def enforce_deadlines(self) -> int:
        now = datetime.now(UTC)
        with self._db.read() as s:
            rows = s.execute(
                select(InvestigationRow.id, InvestigationRow.deadline_at).where(
                    InvestigationRow.status.in_([S.DISPATCHED.value, S.RUNNING.value]),
                    InvestigationRow.deadline_at.is_not(None),
                )
            ).all()
        overdue = [i for i, d in rows if d is not None and as_utc(d) + DEADLINE_GRACE < now]
        for inv_id in overdue:
            self._executor.stop(inv_id, "deadline exceeded")
            self._investigations.terminate(
                inv_id,
                S.DEADLINE_EXCEEDED,
                "deadline exceeded (enforced by the reconciler)",
                only_if_active=True,
            )
        return len(overdue)

    def worker_exited(self, exit_: WorkerExit) -> None:
        """Executor callback: a unit ended; fail the investigation if it is still open."""
        if exit_.status is None:
            return
        try:
            self._investigations.terminate(
                exit_.investigation_id,
                exit_.status,
                exit_.reason,
                resources=exit_.resources,
                only_if_active=True,
            )
        except Exception:
            log.exception("could not record the exit of %s", exit_.investigation_id)
