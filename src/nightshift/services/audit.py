"""The audit trail in the database: append (hash-chained, serialized through
the head row), verify (streaming, names the first broken link) and explain."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from nightshift.domain.access import Caller
from nightshift.observability.audit_anchor import (
    Anchor,
    AnchorError,
    AnchorSink,
    SignerUnavailable,
)
from nightshift.observability.audit_chain import (
    GENESIS_HASH,
    AuditEntry,
    AuditRecord,
    VerifyResult,
    seal,
    verify,
)
from nightshift.store.database import Database
from nightshift.store.tables import AuditHeadRow, AuditRecordRow

_BATCH = 2000
log = logging.getLogger(__name__)


def human_entry(
    caller: Caller,
    *,
    intent: str,
    request: dict[str, Any],
    decision: str = "done",
    reason: str = "",
    investigation_id: str | None = None,
    extra: dict[str, Any] | None = None,
) -> AuditEntry:
    """An audit entry for something a person (or service) did through the API or CLI."""
    more = dict(extra or {})
    if investigation_id:
        more["investigation_id"] = investigation_id
    return AuditEntry(
        at=datetime.now(UTC),
        actor=caller.name,
        owner=None,
        authority_class=None,
        phase=None,
        chain_id=None,
        intent=intent,
        request=request,
        decision=decision,
        reason=reason,
        extra=more,
    )


@dataclass(frozen=True, slots=True)
class AuditReport:
    ok: bool
    checked: int
    head: str
    message: str
    first_broken_seq: int | None = None
    kind: str | None = None
    anchors: int = 0  # signed heads outside the database the chain was checked against


class AnchorRefused(RuntimeError):
    """The chain does not verify, so its head must not be signed."""


class AnchorUnsigned(RuntimeError):
    """The signer (Vault/OpenBao transit, or the key file) could not be reached: no
    anchor was written, the anchor file is as it was."""


class AuditService:
    def __init__(
        self,
        db: Database,
        anchors: AnchorSink | None = None,
        *,
        on_anchor_failure: Callable[[str], None] | None = None,
    ) -> None:
        self._db = db
        self._anchors = anchors
        self._last: Anchor | None = None  # the newest anchor, once read (anchor_if_due)
        self._retry_at: datetime | None = None
        # Told why a periodic anchor failed (the composition root counts it in
        # nightshift_audit_anchor_failures, so an outage of the signer can be alerted on).
        self.on_anchor_failure = on_anchor_failure

    def append(self, entries: Sequence[AuditEntry]) -> list[AuditRecord]:
        with self._db.transaction() as s:
            return self.append_in(s, entries)

    def append_in(self, s: Session, entries: Sequence[AuditEntry]) -> list[AuditRecord]:
        """Append inside the caller's transaction (so the audit commits with the change)."""
        if not entries:
            return []
        head = s.get(AuditHeadRow, 1, with_for_update=True)
        previous = None
        if head is not None and head.count > 0:
            last = s.get(AuditRecordRow, head.seq)
            previous = _record(last) if last is not None else None
        out = []
        for entry in entries:
            record = seal(entry, previous)
            s.add(
                AuditRecordRow(
                    seq=record.seq,
                    at=entry.at,
                    actor=entry.actor,
                    investigation_id=_investigation(entry),
                    decision=entry.decision,
                    body=record.to_dict(),
                    prev_hash=record.prev_hash,
                    hash=record.hash,
                )
            )
            out.append(record)
            previous = record
        assert previous is not None
        if head is None:
            s.add(AuditHeadRow(id=1, seq=previous.seq, hash=previous.hash, count=previous.seq + 1))
        else:
            head.seq, head.hash, head.count = previous.seq, previous.hash, previous.seq + 1
        s.flush()
        return out

    def verify(self) -> AuditReport:
        with self._db.read() as s:
            head = s.get(AuditHeadRow, 1)
            result: VerifyResult = verify(
                self._stream(s),
                expected_head=head.hash if head else GENESIS_HASH,
                expected_count=head.count if head else 0,
            )
            if result.first_broken is None and self._anchors is not None:
                return self._against_anchors(s, result)
        if result.first_broken is None:
            return AuditReport(True, result.checked, result.head, "chain intact")
        broken = result.first_broken
        return AuditReport(
            False, result.checked, result.head, broken.message, broken.seq, broken.kind.value
        )

    def anchor(self) -> Anchor:
        """Sign the current head and append it to the sink, once the chain (and
        every earlier anchor) verifies: a forged head is never signed."""
        if self._anchors is None:
            raise AnchorRefused("no audit anchor sink is configured")
        report = self.verify()
        if report.kind == "unverifiable":
            raise AnchorUnsigned(report.message)
        if not report.ok:
            raise AnchorRefused(f"audit chain broken at seq {report.first_broken_seq}: "
                                f"{report.message}")  # fmt: skip
        try:
            return self._anchors.append(report.checked, report.head)
        except SignerUnavailable as exc:
            raise AnchorUnsigned(f"{exc}; the anchor file is unchanged") from exc

    def anchor_if_due(self, min_interval_seconds: float) -> Anchor | None:
        """The reconcile loop's periodic anchor: sign the head when records were added
        since the last anchor and that anchor is at least ``min_interval_seconds`` old.
        The last anchor is remembered, so a pass reads no file unless one is due; a
        sink that cannot be written, or a signer that is down, is logged, counted
        (``on_anchor_failure``) and retried at the next interval, not every pass."""
        if self._anchors is None or min_interval_seconds < 0:
            return None
        now = datetime.now(UTC)
        if self._retry_at is not None and now < self._retry_at:
            return None
        with self._db.read() as s:
            head = s.get(AuditHeadRow, 1)
            count = head.count if head else 0
        try:
            if self._last is None:
                anchors = self._anchors.read()
                self._last = anchors[-1] if anchors else Anchor(0, GENESIS_HASH, now)
            if self._last.count == count or (
                self._last.count and (now - self._last.at).total_seconds() < min_interval_seconds
            ):
                return None
            self._last = self.anchor()
        except AnchorRefused:
            self._failed("refused")
            raise
        except (OSError, AnchorError, AnchorUnsigned) as exc:
            self._retry_at = now + timedelta(seconds=max(min_interval_seconds, 60.0))
            log.error("could not anchor the audit chain's head: %s", exc)
            self._failed("signer_unavailable" if _signer_down(exc) else "sink")
            return None
        self._retry_at = None
        return self._last

    def _failed(self, reason: str) -> None:
        if self.on_anchor_failure is not None:
            self.on_anchor_failure(reason)

    def _against_anchors(self, s: Session, chain: VerifyResult) -> AuditReport:
        """The chain checked itself; each signed anchor must still be in it, unchanged."""
        assert self._anchors is not None
        try:
            anchors = self._anchors.read()
        except SignerUnavailable as exc:
            # Neither intact nor forged: the signatures could not be checked at all.
            msg = f"cannot check the anchors' signatures: {exc}"
            return AuditReport(False, chain.checked, chain.head, msg, None, "unverifiable")
        except AnchorError as exc:
            return AuditReport(False, chain.checked, chain.head, str(exc), None, "anchor")
        for anchor in anchors:
            when = anchor.at.isoformat()
            if anchor.count > chain.checked:
                msg = (f"chain has {chain.checked} records, the anchor of {when} "
                       f"signed {anchor.count}: the newest records were removed")  # fmt: skip
                return AuditReport(
                    False, chain.checked, chain.head, msg, chain.checked, "truncated"
                )
            stored = (
                s.scalar(select(AuditRecordRow.hash).where(AuditRecordRow.seq == anchor.count - 1))
                if anchor.count
                else GENESIS_HASH
            )
            if stored != anchor.head:
                msg = (f"record seq {anchor.count - 1} differs from the head signed at {when}: "
                       "the history up to it was rewritten")  # fmt: skip
                return AuditReport(
                    False, chain.checked, chain.head, msg, anchor.count - 1, "rewritten"
                )
        return AuditReport(True, chain.checked, chain.head, "chain intact", anchors=len(anchors))

    def for_investigation(self, investigation_id: str) -> list[AuditRecord]:
        with self._db.read() as s:
            rows = s.scalars(
                select(AuditRecordRow)
                .where(AuditRecordRow.investigation_id == investigation_id)
                .order_by(AuditRecordRow.seq)
            )
            return [_record(r) for r in rows]

    def recent(self, limit: int = 100, actor: str | None = None) -> list[AuditRecord]:
        q = select(AuditRecordRow).order_by(AuditRecordRow.seq.desc()).limit(limit)
        if actor:
            q = q.where(AuditRecordRow.actor == actor)
        with self._db.read() as s:
            return [_record(r) for r in s.scalars(q)][::-1]

    def _stream(self, s: Session) -> Iterator[AuditRecord]:
        after = -1
        while True:
            rows = list(
                s.scalars(
                    select(AuditRecordRow)
                    .where(AuditRecordRow.seq > after)
                    .order_by(AuditRecordRow.seq)
                    .limit(_BATCH)
                )
            )
            if not rows:
                return
            for row in rows:
                yield _record(row)
            after = rows[-1].seq


def _record(row: AuditRecordRow) -> AuditRecord:
    # Verify what was hashed (the stored body) against the stored links, so an
    # edit to either the body or the link columns shows up.
    body = dict(row.body)
    body["prev_hash"], body["hash"], body["seq"] = row.prev_hash, row.hash, row.seq
    return AuditRecord.from_dict(body)


def _signer_down(exc: BaseException) -> bool:
    return isinstance(exc, (AnchorUnsigned, SignerUnavailable))


def _investigation(entry: AuditEntry) -> str | None:
    value = entry.extra.get("investigation_id") if entry.extra else None
    return str(value) if value else None
