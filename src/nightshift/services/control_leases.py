"""Leases between control-plane replicas sharing one database.

Every replica renews a heartbeat ("replica:<id>") and competes for one leader
lease ("leader"). Both live in ``control_leases`` and are judged by the
database's clock, so replicas on machines whose clocks disagree still agree on
who holds what. The leader runs the singletons (sweeps, expiries, demotions,
recovery of a dead replica's work); any replica dispatches.

Fencing: each change of holder increments ``epoch``. A leader believes it
leads only until its lease would have expired counted from *before* it asked
(its own monotonic clock), so a leader cut off from the database stops acting
within the TTL, before anyone else may take over. A write that must never come
from a deposed leader also checks the epoch inside its own transaction
(``fence``), holding the lease row shared so a takeover waits for it.

SQLite is single-replica: the one process always takes the lease.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from nightshift.store.database import Database
from nightshift.store.tables import ControlLeaseRow, as_utc

log = logging.getLogger(__name__)
LEADER = "leader"
HEARTBEAT_PREFIX = "replica:"
# Of the TTL a leader trusts itself for: the rest absorbs clock-rate drift
# between this machine and the database's.
_TRUSTED_SHARE = 0.9


class LeaseLost(Exception):
    """This replica no longer holds the leader lease (another one may)."""


class ControlLeases:
    def __init__(
        self,
        db: Database,
        replica: str,
        ttl_seconds: float,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._db = db
        self.replica = replica
        self.ttl_seconds = ttl_seconds
        self._ttl = timedelta(seconds=ttl_seconds)
        self._clock = clock
        self.single_replica = db.url.startswith("sqlite")
        self._epoch: int | None = None
        self._leader_until = 0.0
        self._new_life = True  # the first heartbeat of this process restarts the row

    @property
    def epoch(self) -> int | None:
        return self._epoch if self.is_leader() else None

    def is_leader(self) -> bool:
        return self._epoch is not None and self._clock() < self._leader_until

    def tick(self) -> bool:
        """Renew this replica's heartbeat and take or renew the leader lease;
        returns whether this replica leads now. A database error propagates and
        leadership then lapses on its own."""
        asked_at = self._clock()
        try:
            with self._db.transaction() as s:
                now = db_now(s)
                expires = now + self._ttl
                self._beat(s, now, expires)
                epoch = self._lead(s, now, expires)
        except IntegrityError:  # another replica created the leader row first
            epoch = None
        if epoch is None:
            if self._epoch is not None:
                log.warning("replica %s no longer leads", self.replica)
            self._epoch, self._leader_until = None, 0.0
            return False
        if epoch != self._epoch:
            log.warning("replica %s leads (epoch %d)", self.replica, epoch)
        self._epoch = epoch
        self._leader_until = asked_at + self.ttl_seconds * _TRUSTED_SHARE
        return self.is_leader()

    def beat_in(self, s: Session) -> None:
        """Renew this replica's heartbeat inside the caller's transaction (a claim)."""
        now = db_now(s)
        self._beat(s, now, now + self._ttl)

    def _beat(self, s: Session, now: datetime, expires: datetime) -> None:
        name = HEARTBEAT_PREFIX + self.replica
        row = s.get(ControlLeaseRow, name)
        if row is None:
            s.add(ControlLeaseRow(name=name, holder=self.replica, epoch=1, acquired_at=now,
                                  renewed_at=now, expires_at=expires))  # fmt: skip
        else:
            row.renewed_at, row.expires_at = now, expires
            if self._new_life:  # a restart under the same id: its work began now
                row.acquired_at = now
        # (cleared even if the transaction rolls back: the row then keeps an older
        # start, which only makes oldest_live_start more cautious)
        self._new_life = False

    def _lead(self, s: Session, now: datetime, expires: datetime) -> int | None:
        row = s.get(ControlLeaseRow, LEADER, with_for_update=True)
        if row is None:
            s.add(ControlLeaseRow(name=LEADER, holder=self.replica, epoch=1, acquired_at=now,
                                  renewed_at=now, expires_at=expires))  # fmt: skip
            s.flush()
            return 1
        if row.holder == self.replica and row.epoch == self._epoch:
            # Nobody took it since we last held it (the epoch did not move): renew.
            row.renewed_at, row.expires_at = now, expires
            return row.epoch
        if as_utc(row.expires_at) > now and not self.single_replica:
            return None  # someone else's, and live (or ours from a previous life)
        row.holder, row.epoch = self.replica, row.epoch + 1
        row.acquired_at, row.renewed_at, row.expires_at = now, now, expires
        return row.epoch

    def fence(self, s: Session) -> None:
        """Inside a leader-only write: raise ``LeaseLost`` unless this replica still
        holds the lease at its epoch. The row stays share-locked until the caller's
        transaction ends, so no takeover can commit in between."""
        epoch = self.epoch
        row = s.get(ControlLeaseRow, LEADER, with_for_update={"read": True})
        if (
            epoch is None
            or row is None
            or row.holder != self.replica
            or row.epoch != epoch
            or as_utc(row.expires_at) <= db_now(s)
        ):
            raise LeaseLost(f"replica {self.replica} does not hold the leader lease")

    def live_replicas(self, s: Session) -> set[str]:
        """Replicas whose heartbeat has not lapsed, by the database's clock."""
        return set(
            s.scalars(
                select(ControlLeaseRow.holder).where(
                    ControlLeaseRow.name.startswith(HEARTBEAT_PREFIX),
                    ControlLeaseRow.expires_at > db_now(s),
                )
            )
        )

    def oldest_live_start(self) -> datetime | None:
        """When the longest-running live replica started (the database's clock):
        whatever was claimed before it, no live replica can be running."""
        with self._db.read() as s:
            started = s.scalar(
                select(func.min(ControlLeaseRow.acquired_at)).where(
                    ControlLeaseRow.name.startswith(HEARTBEAT_PREFIX),
                    ControlLeaseRow.expires_at > db_now(s),
                )
            )
        return as_utc(started) if started is not None else None

    def others_alive(self) -> bool:
        with self._db.read() as s:
            return bool(self.live_replicas(s) - {self.replica})

    def forget_lapsed(self, s: Session) -> int:
        """Drop heartbeats lapsed for longer than a TTL (their work was recovered):
        replicas named hostname-pid leave one behind per process."""
        gone = s.execute(
            delete(ControlLeaseRow).where(
                ControlLeaseRow.name.startswith(HEARTBEAT_PREFIX),
                ControlLeaseRow.expires_at < db_now(s) - self._ttl,
            )
        )
        return int(getattr(gone, "rowcount", 0) or 0)

    def release(self) -> None:
        """On a clean shutdown: end the lease and the heartbeat now, so another
        replica takes over at once instead of after the TTL."""
        held = self._epoch
        self._epoch, self._leader_until = None, 0.0
        with self._db.transaction() as s:
            now = db_now(s)
            beat = s.get(ControlLeaseRow, HEARTBEAT_PREFIX + self.replica)
            if beat is not None:
                beat.expires_at = now
            leader = s.get(ControlLeaseRow, LEADER, with_for_update=True)
            if leader is not None and leader.holder == self.replica and leader.epoch == held:
                leader.expires_at = now


def db_now(s: Session) -> datetime:
    """The database's clock (PostgreSQL), or this machine's (SQLite, one machine)."""
    if s.get_bind().dialect.name == "postgresql":
        moment = s.scalar(select(func.clock_timestamp()))
        assert moment is not None
        return as_utc(moment)
    return datetime.now(UTC)
