"""What several control-plane replicas on one database need beyond dispatch.

- **Heartbeat and lease**: every replica renews its heartbeat and competes for
  the leader lease (services/control_leases.py) every third of the TTL.
- **Orphans** (leader only): an active investigation whose replica's heartbeat
  has lapsed has nobody watching its unit. Its unit is stopped where this
  executor can reach it, then a ``dispatched`` one (its worker never reported)
  is re-queued and a ``running`` one is failed with the replica named in the
  reason. Failed, not re-queued: a worker that ran may have posted evidence,
  proposed actions and spent budget, and a second run would repeat them under
  the same investigation; the operator sees why it ended and can resubmit.
- **Remote ends**: a stop asked on one replica (cancel, kill switch, a deadline
  recorded elsewhere) ends the investigation in the database; the replica that
  runs the unit reads that back every second and stops it. The database is the
  channel, so it needs no broker.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from sqlalchemy import select

from nightshift.domain.vocabulary import InvestigationStatus
from nightshift.runtime.executors.protocol import Executor
from nightshift.services.control_leases import ControlLeases, db_now
from nightshift.services.investigations import InvestigationService
from nightshift.services.principals import revoke_worker_tokens
from nightshift.store.database import Database
from nightshift.store.tables import InvestigationRow

log = logging.getLogger(__name__)
S = InvestigationStatus
_ACTIVE = [S.DISPATCHED.value, S.RUNNING.value]
_TERMINAL = [st.value for st in S if st.terminal]
# How far back a remote end is looked for: well past the one-second poll, so a
# slow pass misses none.
_REMOTE_END_WINDOW = timedelta(minutes=2)
STOP_POLL_SECONDS = 1.0


class ReplicaWatch:
    def __init__(
        self,
        db: Database,
        leases: ControlLeases,
        investigations: InvestigationService,
        executor: Executor,
    ) -> None:
        self._db = db
        self._leases = leases
        self._investigations = investigations
        self._executor = executor
        self._stopped: set[str] = set()

    def recover_orphans(self) -> dict[str, int]:
        """Leader only: recover the active investigations of replicas whose heartbeat
        lapsed (or that never had one). Returns how many were re-queued and failed."""
        if not self._leases.is_leader():
            return {"requeued": 0, "failed": 0}
        with self._db.read() as s:
            # Rows first: a replica owning any of them heartbeat before it claimed,
            # so the liveness read after them sees it (a new replica is no orphan).
            rows = s.execute(
                select(
                    InvestigationRow.id,
                    InvestigationRow.status,
                    InvestigationRow.worker_ref,
                    InvestigationRow.replica,
                ).where(InvestigationRow.status.in_(_ACTIVE))
            ).all()
            live = self._leases.live_replicas(s)
        orphans = [r for r in rows if r.replica not in live]
        requeued = failed = 0
        for inv_id, status, ref, replica in orphans:
            owner = replica or "unknown"
            stopped = ref is not None and self._stop_orphan(ref)
            if status == S.DISPATCHED.value:
                requeued += self._requeue(inv_id, owner)
                continue
            self._still_leader()
            why = f"lost worker: control-plane replica {owner} stopped heartbeating while it ran"
            if stopped:
                why += " (the orphaned worker was stopped)"
            self._investigations.terminate(inv_id, S.FAILED, why, only_if_active=True)
            failed += 1
        with self._db.transaction() as s:
            self._leases.fence(s)
            self._leases.forget_lapsed(s)
        if requeued or failed:
            log.warning("recovered lapsed replicas' work: %d re-queued, %d failed",
                        requeued, failed)  # fmt: skip
        return {"requeued": requeued, "failed": failed}

    def _stop_orphan(self, ref: str) -> bool:
        try:
            return self._executor.adopt_or_kill_orphan(ref)
        except Exception:  # unreachable unit (API down): its token is revoked anyway
            log.exception("could not stop orphaned unit %s", ref)
            return False

    def _requeue(self, inv_id: str, owner: str) -> int:
        with self._db.transaction() as s:
            self._leases.fence(s)
            row = s.get(InvestigationRow, inv_id, with_for_update=True)
            if row is None or row.status != S.DISPATCHED.value:
                return 0
            if (row.replica or "unknown") != owner:
                return 0  # claimed again meanwhile
            revoke_worker_tokens(s, inv_id)
            row.worker_ref = row.replica = None
            self._investigations.transition(
                s, row, S.QUEUED,
                f"re-queued after a control-plane restart: replica {owner} stopped "
                "heartbeating before its worker reported",
            )  # fmt: skip
        return 1

    def _still_leader(self) -> None:
        with self._db.read() as s:
            self._leases.fence(s)

    def stop_ended_elsewhere(self) -> int:
        """Stop this replica's units whose investigation ended (possibly on another
        replica); returns how many were stopped."""
        with self._db.read() as s:
            since = db_now(s) - _REMOTE_END_WINDOW
            rows = s.execute(
                select(InvestigationRow.id, InvestigationRow.reason).where(
                    InvestigationRow.replica == self._leases.replica,
                    InvestigationRow.status.in_(_TERMINAL),
                    InvestigationRow.finished_at >= since,
                )
            ).all()
        stopped = 0
        for inv_id, reason in rows:
            if inv_id in self._stopped or not self._executor.tracks(inv_id):
                continue
            self._executor.stop(inv_id, reason or "ended on another replica")
            self._stopped.add(inv_id)
            stopped += 1
        self._stopped = {i for i in self._stopped if self._executor.tracks(i)}
        return stopped

    async def run(self, stop: asyncio.Event) -> None:
        """Heartbeat and lease every third of the TTL; remote ends every second."""
        beat_every = self._leases.ttl_seconds / 3
        loop = asyncio.get_running_loop()
        next_beat = loop.time() + beat_every  # the lifespan beat once before starting us
        while not stop.is_set():
            if loop.time() >= next_beat:
                next_beat = loop.time() + beat_every
                try:
                    await asyncio.to_thread(self._leases.tick)
                except Exception:  # leadership lapses on its own; keep beating
                    log.exception("lease renewal failed")
            try:
                await asyncio.to_thread(self.stop_ended_elsewhere)
            except Exception:
                log.exception("remote-stop poll failed")
            wait = min(STOP_POLL_SECONDS, max(0.05, next_beat - loop.time()))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), wait)
