"""Stored alerts: upsert by fingerprint inside the intake transaction, and reads."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from nightshift.domain.alerts import AlertStatus, IncomingAlert, Notification
from nightshift.domain.ids import new_id
from nightshift.services.errors import NotFound
from nightshift.store.database import Database
from nightshift.store.tables import AlertGroupMemberRow, AlertGroupRow, AlertRow, as_utc


@dataclass(frozen=True, slots=True)
class AlertView:
    fingerprint: str
    status: str
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: datetime
    ends_at: datetime | None
    generator_url: str
    source: str
    receiver: str
    group_key: str
    investigation_id: str | None
    received_count: int
    first_received_at: datetime
    last_received_at: datetime


def alert_view(row: AlertRow) -> AlertView:
    return AlertView(
        fingerprint=row.fingerprint,
        status=row.status,
        labels=dict(row.labels),
        annotations=dict(row.annotations),
        starts_at=as_utc(row.starts_at),
        ends_at=as_utc(row.ends_at) if row.ends_at else None,
        generator_url=row.generator_url,
        source=row.source,
        receiver=row.receiver,
        group_key=row.group_key,
        investigation_id=row.investigation_id,
        received_count=row.received_count,
        first_received_at=as_utc(row.first_received_at),
        last_received_at=as_utc(row.last_received_at),
    )


@dataclass(frozen=True, slots=True)
class Upserted:
    row: AlertRow
    created: bool


def upsert_alerts(s: Session, n: Notification, now: datetime) -> list[Upserted]:
    """Insert or update every alert of a notification (in order; duplicates fold)."""
    wanted = {a.fingerprint for a in n.alerts}
    rows = {
        r.fingerprint: r
        for r in s.scalars(select(AlertRow).where(AlertRow.fingerprint.in_(wanted)))
    }
    out: list[Upserted] = []
    for alert in n.alerts:
        row = rows.get(alert.fingerprint)
        if row is None:
            row = AlertRow(
                id=new_id(),
                fingerprint=alert.fingerprint,
                status=alert.status.value,
                labels=dict(alert.labels),
                annotations=dict(alert.annotations),
                starts_at=alert.starts_at,
                ends_at=alert.ends_at,
                generator_url=alert.generator_url,
                source=n.source,
                receiver=n.receiver,
                group_key=n.group_key or "",
                occurrence=1,
                received_count=1,
                first_received_at=now,
                last_received_at=now,
            )
            s.add(row)
            rows[alert.fingerprint] = row
            out.append(Upserted(row, created=True))
            continue
        _update(row, alert, n, now)
        out.append(Upserted(row, created=False))
    return out


def _update(row: AlertRow, alert: IncomingAlert, n: Notification, now: datetime) -> None:
    row.received_count += 1
    row.last_received_at = now
    row.receiver = n.receiver or row.receiver
    row.group_key = n.group_key or row.group_key
    stored_start = as_utc(row.starts_at)
    if row.status == AlertStatus.RESOLVED.value and alert.status is AlertStatus.FIRING:
        if alert.starts_at <= stored_start:
            return  # a stale (replayed or reordered) firing notice of a resolved occurrence
        row.occurrence += 1  # fired again: a new occurrence, which may start a new group
        row.starts_at = alert.starts_at
    else:
        row.starts_at = min(stored_start, alert.starts_at)
    row.status = alert.status.value
    row.ends_at = alert.ends_at
    # Assigned only when changed: a replay then updates two small columns, not the JSON.
    if row.labels != dict(alert.labels):
        row.labels = dict(alert.labels)
    if row.annotations != dict(alert.annotations):
        row.annotations = dict(alert.annotations)
    if alert.generator_url and alert.generator_url != row.generator_url:
        row.generator_url = alert.generator_url


def member_alerts(
    s: Session, group_ids: Iterable[str]
) -> list[tuple[AlertGroupMemberRow, AlertRow]]:
    ids = list(group_ids)
    if not ids:
        return []
    q = (
        select(AlertGroupMemberRow, AlertRow)
        .join(AlertRow, AlertRow.id == AlertGroupMemberRow.alert_id)
        .where(AlertGroupMemberRow.group_id.in_(ids))
        .order_by(AlertRow.starts_at, AlertRow.fingerprint)
    )
    return [(m, a) for m, a in s.execute(q).all()]


def firing_groups(s: Session, group_ids: Iterable[str]) -> set[str]:
    """The groups with at least one member occurrence still firing (one query)."""
    ids = list(group_ids)
    if not ids:
        return set()
    q = (
        select(AlertGroupMemberRow.group_id)
        .join(AlertRow, AlertRow.id == AlertGroupMemberRow.alert_id)
        .where(
            AlertGroupMemberRow.group_id.in_(ids),
            AlertRow.status == AlertStatus.FIRING.value,
            AlertRow.occurrence == AlertGroupMemberRow.occurrence,
        )
        .distinct()
    )
    return set(s.scalars(q))


def member_resolved(member: AlertGroupMemberRow, alert: AlertRow) -> bool:
    """A member occurrence is over when its alert resolved or has fired anew since."""
    return alert.status == AlertStatus.RESOLVED.value or alert.occurrence > member.occurrence


class AlertReads:
    def __init__(self, db: Database) -> None:
        self._db = db

    def search(self, *, status: AlertStatus | None = None, limit: int = 100) -> list[AlertView]:
        q = select(AlertRow)
        if status is not None:
            q = q.where(AlertRow.status == status.value)
        q = q.order_by(AlertRow.last_received_at.desc(), AlertRow.fingerprint).limit(limit)
        with self._db.read() as s:
            return [alert_view(r) for r in s.scalars(q)]

    def get(self, fingerprint: str) -> AlertView:
        with self._db.read() as s:
            row = s.scalar(select(AlertRow).where(AlertRow.fingerprint == fingerprint))
            if row is None:
                raise NotFound(f"no alert with fingerprint {fingerprint!r}")
            return alert_view(row)

    def of_investigation(self, inv_id: str) -> list[AlertView]:
        """Every alert of the group(s) that started or were absorbed by an investigation."""
        with self._db.read() as s:
            groups = list(
                s.scalars(select(AlertGroupRow.id).where(AlertGroupRow.investigation_id == inv_id))
            )
            seen: dict[str, AlertView] = {}
            for _, alert in member_alerts(s, groups):
                seen.setdefault(alert.fingerprint, alert_view(alert))
            return list(seen.values())

    def groups_of(self, inv_id: str) -> Sequence[str]:
        with self._db.read() as s:
            return list(
                s.scalars(select(AlertGroupRow.id).where(AlertGroupRow.investigation_id == inv_id))
            )
