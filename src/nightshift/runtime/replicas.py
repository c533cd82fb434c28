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

The reads and the fenced re-queue are services/replica_units.py's: no session here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from nightshift.domain.vocabulary import InvestigationStatus
from nightshift.runtime.executors.protocol import Executor
from nightshift.services.investigations import InvestigationService
from nightshift.services.replica_units import ReplicaUnits

log = logging.getLogger(__name__)
S = InvestigationStatus
# How far back a remote end is looked for: well past the one-second poll, so a
# slow pass misses none.
_REMOTE_END_WINDOW = timedelta(minutes=2)
STOP_POLL_SECONDS = 1.0


class ReplicaWatch:
    def __init__(
        self,
        units: ReplicaUnits,
        investigations: InvestigationService,
        executor: Executor,
    ) -> None:
        self._units = units
        self._leases = units.leases  # one replica's: the units it watches are its own
        self._investigations = investigations
        self._executor = executor
        self._stopped: set[str] = set()

    def recover_orphans(self) -> dict[str, int]:
        """Leader only: recover the active investigations of replicas whose heartbeat
        lapsed (or that never had one). Returns how many were re-queued and failed."""
        if not self._leases.is_leader():
            return {"requeued": 0, "failed": 0}
        requeued = failed = 0
        for unit in self._units.orphaned():
            inv_id, ref = unit.investigation_id, unit.worker_ref
            owner = unit.replica or "unknown"
            stopped = ref is not None and self._stop_orphan(ref)
            if unit.status is S.DISPATCHED:
                requeued += self._requeue(inv_id, owner)
                continue
            self._units.check_leader()
            why = f"lost worker: control-plane replica {owner} stopped heartbeating while it ran"
            if stopped:
                why += " (the orphaned worker was stopped)"
            self._investigations.terminate(inv_id, S.FAILED, why, only_if_active=True)
            failed += 1
        self._units.forget_lapsed_replicas()
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
        reason = (
            f"re-queued after a control-plane restart: replica {owner} stopped "
            "heartbeating before its worker reported"
        )
        return int(self._units.requeue_orphan(inv_id, owner, reason))

    def stop_ended_elsewhere(self) -> int:
        """Stop this replica's units whose investigation ended (possibly on another
        replica); returns how many were stopped."""
        ended = self._units.ended_since(_REMOTE_END_WINDOW)
        stopped = 0
        for end in ended:
            inv_id, reason = end.investigation_id, end.reason
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
