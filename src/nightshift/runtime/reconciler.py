"""Keeps the table honest about the world: after a restart, and periodically.

On start: a unit that was dispatched but never reported is re-queued; one
that was running lost its worker (nobody watched it while we were down), so
it is stopped and failed with that reason; a proposal left ``executing`` is
settled from the target's state (services/interrupted.py). Periodically: anything past its
deadline by more than a grace period is stopped and marked so, whatever the
executor believes.

With several replicas (services/control_leases.py) each one keeps only its own
units honest: start-up recovery, deadlines and unrecorded ends look at the
investigations this replica dispatched (``replica``). A replica that died is
recovered by the leader (runtime/replicas.py). SQLite is single-replica, so
there start-up recovery still takes every active investigation. What it reads
and re-queues goes through services/replica_units.py: no session here.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from nightshift.domain.vocabulary import InvestigationStatus
from nightshift.runtime.executors.protocol import (
    NEVER_ADMITTED,
    Executor,
    WorkerExit,
    reported_admission,
)
from nightshift.runtime.exit_queue import ExitQueue
from nightshift.services.credentials import CredentialService
from nightshift.services.interrupted import InterruptedExecutions
from nightshift.services.investigations import InvestigationService
from nightshift.services.replica_units import ReplicaUnits

log = logging.getLogger(__name__)
S = InvestigationStatus
DEADLINE_GRACE = timedelta(seconds=15)


class UnitExits:
    """Where the executor reports a unit's end: recorded on the investigation, or
    kept and retried when the database refuses the write (runtime/exit_queue.py).

    It needs no executor, so the composition root builds it before the executor
    (whose exit handler it is) and then hands it to the reconciler, which retries
    what waits and leaves those units alone (``find_unrecorded_ends``).
    """

    def __init__(self, investigations: InvestigationService, replica: str) -> None:
        self._investigations = investigations
        self._replica = replica  # only this replica's units: another's are not its to end
        self.queue = ExitQueue(self._record)

    def worker_exited(self, exit_: WorkerExit) -> None:
        """Executor callback: a unit ended; fail the investigation if it is still open.
        A write the database refuses now is kept and retried until stored."""
        if exit_.status is None:
            return
        self.queue.submit(exit_)

    def _record(self, exit_: WorkerExit) -> None:
        assert exit_.status is not None
        self._investigations.terminate(
            exit_.investigation_id,
            exit_.status,
            exit_.reason,
            resources=exit_.resources,
            only_if_active=True,
            only_if_replica=self._replica,
        )


class Reconciler:
    def __init__(
        self,
        units: ReplicaUnits,
        investigations: InvestigationService,
        executor: Executor,
        credentials: CredentialService | None = None,
        *,
        exits: UnitExits | None = None,
        executions: InterruptedExecutions | None = None,
    ) -> None:
        self._leases = units.leases
        self._credentials = credentials
        self._units = units
        self._investigations = investigations
        self._executor = executor
        # Proposals a crash left executing (services/interrupted.py); none if nothing executes.
        self.executions = executions
        self._exits = exits or UnitExits(investigations, units.leases.replica)
        self.exits = self._exits.queue
        self._untracked: set[str] = set()  # active, unit unknown: seen on the last pass

    def recover_after_restart(self) -> dict[str, int]:
        """Run once before dispatching starts: this replica's units from its previous
        life (all of them on SQLite). Another replica's are the leader's to recover,
        once that replica's heartbeat lapses."""
        requeued = failed = 0
        for unit in self._units.own_active():
            inv_id, ref = unit.investigation_id, unit.worker_ref
            had_worker = ref is not None and self._executor.adopt_or_kill_orphan(ref)
            if unit.status is S.DISPATCHED:
                requeued += self._units.requeue_unreported(
                    inv_id, "re-queued after a control-plane restart: its worker never reported"
                )
            else:
                why = "lost worker: the control plane restarted while it ran"
                if had_worker:
                    why += " (the orphaned worker was stopped)"
                self._investigations.terminate(inv_id, S.FAILED, why, only_if_active=True)
                failed += 1
        if requeued or failed:
            log.warning("recovered after restart: %d re-queued, %d failed", requeued, failed)
        # Nothing of this process executes yet; with no other replica alive, every
        # "executing" proposal was interrupted. Otherwise one may be running one right
        # now, and only stale ones are settled (by the leader, settle_stale_executions).
        alone = self._leases.single_replica or not self._leases.others_alive()
        settled = self.executions.reconcile() if self.executions and alone else 0
        return {"requeued": requeued, "failed": failed, "executions_settled": settled}

    def settle_stale_executions(self) -> int:
        """An execution that never ended and that no live replica can be running:
        claimed before every live replica started (the one that claimed it died,
        e.g. this one's previous life under another id), or long ago."""
        if self.executions is None:
            return 0
        return self.executions.reconcile_stale(self._leases.oldest_live_start())

    def retry_revocations(self) -> int:
        """Leases whose revocation failed (backend down) are retried until revoked."""
        return self._credentials.retry_pending() if self._credentials else 0

    def enforce_deadlines(self) -> int:
        overdue = self._units.past_deadline(DEADLINE_GRACE)
        for inv_id in overdue:
            # Read before the stop: stopping deletes the Job, and with it where it waited.
            reason = self._deadline_reason(inv_id)
            self._executor.stop(inv_id, "deadline exceeded")
            self._investigations.terminate(
                inv_id,
                S.DEADLINE_EXCEEDED,
                reason,
                only_if_active=True,
                only_if_replica=self._leases.replica,
            )
        return len(overdue)

    def _deadline_reason(self, inv_id: str) -> str:
        """Why the deadline passed: a unit the cluster's queue never admitted did not run
        late, it never ran, and whoever reads the reason must look at Kueue's quota."""
        admission = reported_admission(self._executor, inv_id)
        if admission is not None and str(admission.state) in NEVER_ADMITTED:
            queue = f"local queue {admission.local_queue!r}: " if admission.local_queue else ""
            return (
                "deadline exceeded while waiting for admission in Kueue (never admitted)"
                f" - {queue}{admission.reason or admission.state}"
            )
        if admission is not None and str(admission.state) == "evicted":
            return f"deadline exceeded while waiting for re-admission in Kueue ({admission.reason})"
        return "deadline exceeded (enforced by the reconciler)"

    def worker_exited(self, exit_: WorkerExit) -> None:
        self._exits.worker_exited(exit_)

    def retry_exits(self) -> int:
        return self.exits.retry_due()

    def find_unrecorded_ends(self) -> int:
        """Active investigations whose unit the executor neither runs nor reports, and
        whose exit is not waiting for a retry: the process ended and nobody recorded it.
        Two passes in a row must agree, so a unit being started or reported right now
        is never taken for one."""
        active = self._units.started_here()
        pending = self.exits.pending()
        untracked = {i for i in active if i not in pending and not self._executor.tracks(i)}
        confirmed, self._untracked = untracked & self._untracked, untracked - self._untracked
        for inv_id in confirmed:
            self._investigations.terminate(
                inv_id,
                S.FAILED,
                "its worker process ended and its exit was never recorded",
                only_if_active=True,
                only_if_replica=self._leases.replica,
            )
        if confirmed:
            log.warning("failed %d investigation(s) whose worker ended unrecorded", len(confirmed))
        return len(confirmed)
