"""The change feed: changes from outside the cluster (CI/CD, firewall automation,
schema migrations, feature flags), recorded once and read back by operators and
by investigations (the ``changes`` evidence source reads the worker endpoint).

A change names its sender's own id (``ref``); the same id posted again with the
same content is the same change (a retry), with different content a conflict.
"""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from nightshift.domain.access import Caller
from nightshift.domain.changes import Change, ChangeKind, ChangeTarget
from nightshift.domain.ids import new_id
from nightshift.domain.vocabulary import Domain
from nightshift.observability.redaction import Redactor
from nightshift.services.errors import Conflict, Forbidden, Invalid
from nightshift.store.database import Database
from nightshift.store.tables import ChangeRow, as_utc

MAX_LIST = 500
CLOCK_SKEW = timedelta(minutes=5)  # a sender's clock may run a little ahead of ours


@dataclass(frozen=True, slots=True)
class ChangeQuery:
    since: datetime | None = None
    domain: Domain | None = None
    kind: ChangeKind | None = None
    target: str = ""  # substring of the display target, case-insensitive
    limit: int = 100


class ChangeService:
    def __init__(self, db: Database, clock: Callable[[], datetime] | None = None) -> None:
        self._db = db
        self._clock = clock or (lambda: datetime.now(UTC))

    def record(self, caller: Caller, change: Change) -> tuple[Change, bool]:
        """(the stored change, whether this call created it)."""
        now = self._clock()
        if change.at > now + CLOCK_SKEW:
            raise Invalid(f"at: {change.at.isoformat()} is in the future")
        if change.before is not None and Redactor().redact_obj(change.before) != change.before:
            # Redacting would corrupt what revert-change restores; refusing keeps it out.
            raise Invalid("before: holds what looks like a credential; changes never store one")
        ref = change.ref or f"CHG-{uuid.uuid4().int % 100_000_000:08d}"
        wanted = replace(change, id=new_id(), ref=ref, submitted_by=caller.name)
        try:
            with self._db.transaction() as s:
                existing = s.scalar(select(ChangeRow).where(ChangeRow.ref == ref))
                if existing is None:
                    s.add(_row(wanted, now))
                    return wanted, True
                return self._same(_change(existing), wanted), False
        except IntegrityError:  # the same ref raced in from another request
            with self._db.read() as s:
                row = s.scalar(select(ChangeRow).where(ChangeRow.ref == ref))
                if row is None:
                    raise
                return self._same(_change(row), wanted), False

    @staticmethod
    def _same(stored: Change, wanted: Change) -> Change:
        fields = ("at", "actor", "summary", "kind", "domain", "target", "details", "link", "before")
        differs = [f for f in fields if getattr(stored, f) != getattr(wanted, f)]
        if differs:
            raise Conflict(
                f"change {stored.ref!r} is already recorded with a different "
                f"{', '.join(differs)}; post a new id for a new change"
            )
        return stored

    def get(self, ref: str) -> Change | None:
        """One change by its sender's id (``FW-3141``) or by its stored id."""
        with self._db.read() as s:
            row = s.scalar(select(ChangeRow).where((ChangeRow.ref == ref) | (ChangeRow.id == ref)))
            return _change(row) if row is not None else None

    def latest_for(self, kind: str, name: str, namespace: str) -> Change | None:
        """The newest change to an object that recorded its state before."""
        stmt = (
            select(ChangeRow)
            .where(ChangeRow.target_kind == kind, ChangeRow.target_name == name)
            .where(ChangeRow.target_namespace == namespace, ChangeRow.before.is_not(None))
            .order_by(ChangeRow.at.desc())
            .limit(1)
        )
        with self._db.read() as s:
            row = s.scalar(stmt)
            return _change(row) if row is not None else None

    def list(self, query: ChangeQuery) -> builtins.list[Change]:
        stmt = select(ChangeRow)
        if query.since is not None:
            stmt = stmt.where(ChangeRow.at >= query.since)
        if query.domain is not None:
            stmt = stmt.where(ChangeRow.domain == query.domain.value)
        if query.kind is not None:
            stmt = stmt.where(ChangeRow.kind == query.kind.value)
        if query.target:
            stmt = stmt.where(ChangeRow.target.ilike(f"%{_escape(query.target)}%", escape="\\"))
        stmt = stmt.order_by(ChangeRow.at.desc(), ChangeRow.ref).limit(min(query.limit, MAX_LIST))
        with self._db.read() as s:
            return [_change(r) for r in s.scalars(stmt)]

    def for_worker(
        self, inv_id: str, caller: Caller, since_minutes: int, query: ChangeQuery
    ) -> builtins.list[Change]:
        """What an investigation's worker may read: the recent window, newest first."""
        if caller.investigation_id != inv_id:
            raise Forbidden("only this investigation's worker may use this endpoint")
        since = self._clock() - timedelta(minutes=since_minutes)
        return self.list(replace(query, since=since))


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _row(c: Change, now: datetime) -> ChangeRow:
    return ChangeRow(
        id=c.id,
        ref=c.ref,
        at=c.at,
        actor=c.actor,
        summary=c.summary,
        details=c.details,
        kind=c.kind.value,
        domain=c.domain.value,
        target_kind=c.target.kind,
        target_name=c.target.name,
        target_namespace=c.target.namespace,
        target=c.target.display(),
        link=c.link,
        submitted_by=c.submitted_by,
        created_at=now,
        before=dict(c.before) if c.before is not None else None,
    )


def _change(r: ChangeRow) -> Change:
    target = (
        ChangeTarget(r.target_kind, r.target_name, r.target_namespace)
        if r.target_kind
        else ChangeTarget(text=r.target)
    )
    return Change(
        id=r.id,
        ref=r.ref,
        at=as_utc(r.at),
        actor=r.actor,
        summary=r.summary,
        kind=ChangeKind(r.kind),
        domain=Domain(r.domain),
        target=target,
        details=r.details,
        link=r.link,
        submitted_by=r.submitted_by,
        before=r.before,
    )
