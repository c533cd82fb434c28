"""A storage-agnostic, tamper-evident hash chain of audit records.

Each record's hash is ``sha256(prev_hash + "\\n" + canonical_json(body))``
where the body includes the record's sequence number, so editing a record,
deleting one, inserting one or swapping two all break the chain at a
nameable place. Canonical JSON (sorted keys, no whitespace, UTF-8, no NaN)
makes the hash independent of the database or language that stored it.
Deleting records from the *end* only shows against an anchor kept elsewhere
(``expected_head`` / ``expected_count``), which callers should pass.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from nightshift.domain.agents import AgentIdentity
from nightshift.governance.decisions import Decision

GENESIS_HASH = "0" * 64


class AuditError(ValueError):
    """An entry cannot be sealed (naive time, a value JSON cannot represent)."""


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """What one decision records: who, on whose authority, why, what, and the verdict."""

    at: datetime
    actor: str
    owner: str | None
    authority_class: str | None
    phase: str | None
    chain_id: str | None
    intent: str  # the hypothesis or reasoning that motivated the request
    request: Mapping[str, Any]
    decision: str
    reason: str
    message: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)

    def body(self, seq: int) -> dict[str, Any]:
        if self.at.tzinfo is None:
            raise AuditError("audit time must be timezone-aware")
        return {
            "seq": seq,
            "at": self.at.astimezone(UTC).isoformat(timespec="microseconds"),
            "actor": self.actor,
            "owner": self.owner,
            "authority_class": self.authority_class,
            "phase": self.phase,
            "chain_id": self.chain_id,
            "intent": self.intent,
            "request": dict(self.request),
            "decision": self.decision,
            "reason": self.reason,
            "message": self.message,
            "extra": dict(self.extra),
        }


def decision_entry(
    *,
    at: datetime,
    agent: AgentIdentity,
    request: Mapping[str, Any],
    decision: Decision,
    intent: str,
    chain_id: str | None,
) -> AuditEntry:
    """The audit entry for one policy decision about one agent's request."""
    return AuditEntry(
        at=at,
        actor=agent.name,
        owner=agent.owner.id,
        authority_class=agent.authority_class.value,
        phase=agent.phase.value,
        chain_id=chain_id,
        intent=intent,
        request=request,
        decision=decision.outcome.value,
        reason=decision.reason.value,
        message=decision.message,
        extra={"follow_up": decision.follow_up.value, "visible": decision.visible_to_operators},
    )


def canonical_json(value: Mapping[str, Any]) -> bytes:
    try:
        text = json.dumps(
            value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        )
    except (TypeError, ValueError) as exc:
        raise AuditError(f"audit record is not canonical JSON: {exc}") from None
    return text.encode("utf-8")


def record_hash(seq: int, entry: AuditEntry, prev_hash: str) -> str:
    digest = hashlib.sha256(prev_hash.encode("ascii"))
    digest.update(b"\n")
    digest.update(canonical_json(entry.body(seq)))
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class AuditRecord:
    seq: int
    entry: AuditEntry
    prev_hash: str
    hash: str

    def to_dict(self) -> dict[str, Any]:
        """The flat form a store keeps (one column per key)."""
        return {**self.entry.body(self.seq), "prev_hash": self.prev_hash, "hash": self.hash}

    @classmethod
    def from_dict(cls, row: Mapping[str, Any]) -> AuditRecord:
        entry = AuditEntry(
            at=datetime.fromisoformat(str(row["at"])),
            actor=row["actor"],
            owner=row["owner"],
            authority_class=row["authority_class"],
            phase=row["phase"],
            chain_id=row["chain_id"],
            intent=row["intent"],
            request=row["request"],
            decision=row["decision"],
            reason=row["reason"],
            message=row.get("message", ""),
            extra=row.get("extra") or {},
        )
        return cls(int(row["seq"]), entry, str(row["prev_hash"]), str(row["hash"]))


def seal(entry: AuditEntry, previous: AuditRecord | None) -> AuditRecord:
    """The record that appends ``entry`` after ``previous`` (``None``: first record)."""
    seq = 0 if previous is None else previous.seq + 1
    prev = GENESIS_HASH if previous is None else previous.hash
    return AuditRecord(seq, entry, prev, record_hash(seq, entry, prev))


class AuditChain:
    """An in-memory appender; a store does the same with ``seal`` inside its transaction."""

    __slots__ = ("_last",)

    def __init__(self, last: AuditRecord | None = None) -> None:
        self._last = last

    @property
    def head(self) -> str:
        return GENESIS_HASH if self._last is None else self._last.hash

    @property
    def length(self) -> int:
        return 0 if self._last is None else self._last.seq + 1

    def append(self, entry: AuditEntry) -> AuditRecord:
        record = seal(entry, self._last)
        self._last = record
        return record


class BreakKind(StrEnum):
    EDITED = "edited"  # content no longer matches its own hash
    DELETED = "deleted"  # a sequence number is missing
    REORDERED = "reordered"  # sequence numbers out of order
    RELINKED = "relinked"  # prev_hash does not match: re-hashed edit or insertion
    TRUNCATED = "truncated"  # the chain ends before the anchor says it should


@dataclass(frozen=True, slots=True)
class BrokenLink:
    index: int  # position in the iterable
    seq: int | None
    kind: BreakKind
    message: str


@dataclass(frozen=True, slots=True)
class VerifyResult:
    checked: int
    head: str
    first_broken: BrokenLink | None = None

    @property
    def ok(self) -> bool:
        return self.first_broken is None


def verify(
    records: Iterable[AuditRecord],
    *,
    start_seq: int = 0,
    start_hash: str = GENESIS_HASH,
    expected_head: str | None = None,
    expected_count: int | None = None,
) -> VerifyResult:
    """Walk the chain once and name the first broken link, if any.

    ``start_seq`` / ``start_hash`` verify a segment that begins after an
    already-verified checkpoint.
    """
    it: Iterator[AuditRecord] = iter(records)
    pending: AuditRecord | None = None
    expected, prev, index = start_seq, start_hash, 0
    while True:
        if pending is not None:
            record, pending = pending, None
        else:
            record_or_none = next(it, None)
            if record_or_none is None:
                break
            record = record_or_none
        if record.seq != expected:
            if record.seq > expected:
                pending = next(it, None)
                moved = pending is not None and pending.seq == expected
                kind = BreakKind.REORDERED if moved else BreakKind.DELETED
                msg = (
                    f"record seq {record.seq} precedes seq {expected}"
                    if moved
                    else f"records seq {expected}..{record.seq - 1} are missing"
                )
            else:
                kind = BreakKind.REORDERED
                msg = f"record seq {record.seq} appears where seq {expected} was expected"
            return VerifyResult(index, prev, BrokenLink(index, record.seq, kind, msg))
        try:
            actual = record_hash(record.seq, record.entry, record.prev_hash)
        except AuditError as exc:
            actual = f"unhashable: {exc}"
        if actual != record.hash:
            msg = f"record seq {record.seq} was edited: its content does not match its hash"
            return VerifyResult(index, prev, BrokenLink(index, record.seq, BreakKind.EDITED, msg))
        if record.prev_hash != prev:
            msg = (
                f"record seq {record.seq} does not chain to the record before it "
                "(a re-hashed edit or an inserted record)"
            )
            return VerifyResult(index, prev, BrokenLink(index, record.seq, BreakKind.RELINKED, msg))
        prev, expected, index = record.hash, expected + 1, index + 1
    if expected_count is not None and index < expected_count:
        msg = f"chain has {index} records, the anchor expects {expected_count}"
        return VerifyResult(index, prev, BrokenLink(index, None, BreakKind.TRUNCATED, msg))
    if expected_head is not None and prev != expected_head:
        msg = "the last record's hash does not match the anchored head"
        return VerifyResult(index, prev, BrokenLink(index, None, BreakKind.TRUNCATED, msg))
    return VerifyResult(index, prev)
