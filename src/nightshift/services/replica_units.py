"""The units a control-plane replica watches: the reads and the re-queue that keep
the investigations table honest about the world (runtime/reconciler.py,
runtime/replicas.py), returned as views so the runtime holds no session.

A replica's own units are the active investigations it claimed (``replica``).
SQLite is single-replica: there, start-up recovery takes every active one.
Times that several replicas must agree on (what ended recently) are read with
the database's clock (services/control_leases.py ``db_now``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Row, Select, select
from sqlalchemy.orm import Session

from nightshift.domain.vocabulary import InvestigationStatus
from nightshift.services.control_leases import ControlLeases, db_now
from nightshift.services.investigations import InvestigationService
from nightshift.services.principals import revoke_worker_tokens
from nightshift.store.database import Database
from nightshift.store.tables import InvestigationRow, as_utc

S = InvestigationStatus
_ACTIVE = [S.DISPATCHED.value, S.RUNNING.value]
_TERMINAL = [st.value for st in S if st.terminal]


@dataclass(frozen=True, slots=True)
class UnitView:
    """An active investigation's unit, as recovery sees it."""

    investigation_id: str
    status: InvestigationStatus
    worker_ref: str | None  # the executor's reference, once started
    replica: str | None  # the replica that claimed it


@dataclass(frozen=True, slots=True)
class EndedUnit:
    investigation_id: str
    reason: str


class ReplicaUnits:
    def __init__(
        self, db: Database, investigations: InvestigationService, leases: ControlLeases
    ) -> None:
        self._db = db
        self._investigations = investigations
        self.leases = leases

    # -- this replica's units --------------------------------------------------

    def own_active(self) -> list[UnitView]:
        """What this replica claimed in its previous life (everything on SQLite)."""
        q = _units().where(InvestigationRow.status.in_(_ACTIVE))
        if not self.leases.single_replica:
            q = q.where(InvestigationRow.replica == self.leases.replica)
        with self._db.read() as s:
            return [_unit(r) for r in s.execute(q).all()]

    def past_deadline(self, grace: timedelta) -> list[str]:
        """This replica's active units (the ones it can stop) past their deadline by
        more than ``grace``, by this machine's clock (the one that set the deadline)."""
        now = datetime.now(UTC)
        with self._db.read() as s:
            rows = s.execute(
                select(InvestigationRow.id, InvestigationRow.deadline_at).where(
                    InvestigationRow.status.in_(_ACTIVE),
                    InvestigationRow.deadline_at.is_not(None),
                    InvestigationRow.replica == self.leases.replica,
                )
            ).all()
        return [i for i, d in rows if d is not None and as_utc(d) + grace < now]

    def started_here(self) -> set[str]:
        """Active investigations whose unit this replica started (it has a reference):
        another replica's units are never this executor's to track."""
        with self._db.read() as s:
            return set(
                s.scalars(
                    select(InvestigationRow.id).where(
                        InvestigationRow.status.in_(_ACTIVE),
                        InvestigationRow.worker_ref.is_not(None),
                        InvestigationRow.replica == self.leases.replica,
                    )
                )
            )

    def ended_since(self, window: timedelta) -> list[EndedUnit]:
        """This replica's investigations that ended (anywhere) within ``window``,
        counted back from the database's clock."""
        with self._db.read() as s:
            since = db_now(s) - window
            rows = s.execute(
                select(InvestigationRow.id, InvestigationRow.reason).where(
                    InvestigationRow.replica == self.leases.replica,
                    InvestigationRow.status.in_(_TERMINAL),
                    InvestigationRow.finished_at >= since,
                )
            ).all()
        return [EndedUnit(inv_id, reason) for inv_id, reason in rows]

    def requeue_unreported(self, inv_id: str, reason: str) -> bool:
        """Back to the queue if still ``dispatched`` (its worker never reported);
        False if it moved on meanwhile."""
        with self._db.transaction() as s:
            row = s.get(InvestigationRow, inv_id, with_for_update=True)
            if row is None or row.status != S.DISPATCHED.value:
                return False
            self._requeue(s, row, reason)
        return True

    # -- the leader's recovery of lapsed replicas ------------------------------

    def orphaned(self) -> list[UnitView]:
        """Active units whose replica's heartbeat has lapsed (or that never had one)."""
        with self._db.read() as s:
            # Rows first: a replica owning any of them heartbeat before it claimed,
            # so the liveness read after them sees it (a new replica is no orphan).
            rows = s.execute(_units().where(InvestigationRow.status.in_(_ACTIVE))).all()
            live = self.leases.live_replicas(s)
        return [_unit(r) for r in rows if r.replica not in live]

    def requeue_orphan(self, inv_id: str, owner: str, reason: str) -> bool:
        """As the leader (fenced): back to the queue if still ``dispatched`` by
        ``owner`` ("unknown" for none); False if it moved on or was claimed again."""
        with self._db.transaction() as s:
            self.leases.fence(s)
            row = s.get(InvestigationRow, inv_id, with_for_update=True)
            if row is None or row.status != S.DISPATCHED.value:
                return False
            if (row.replica or "unknown") != owner:
                return False  # claimed again meanwhile
            self._requeue(s, row, reason)
        return True

    def check_leader(self) -> None:
        """Raise ``LeaseLost`` unless this replica still leads (before a leader-only
        write that goes through another service)."""
        with self._db.read() as s:
            self.leases.fence(s)

    def forget_lapsed_replicas(self) -> int:
        """As the leader: drop heartbeats whose work was recovered."""
        with self._db.transaction() as s:
            self.leases.fence(s)
            return self.leases.forget_lapsed(s)

    def _requeue(self, s: Session, row: InvestigationRow, reason: str) -> None:
        revoke_worker_tokens(s, row.id)
        row.worker_ref = row.replica = None
        self._investigations.transition(s, row, S.QUEUED, reason)


def _units() -> Select[str, str, str | None, str | None]:
    return select(
        InvestigationRow.id,
        InvestigationRow.status,
        InvestigationRow.worker_ref,
        InvestigationRow.replica,
    )


def _unit(row: Row[str, str, str | None, str | None]) -> UnitView:
    inv_id, status, worker_ref, replica = row
    return UnitView(inv_id, S(status), worker_ref, replica)
