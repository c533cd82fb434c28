"""The audit hash chain: tampering (edit, delete, reorder, insert, truncate) is detected."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from nightshift.governance.policy import ActionRequest, decide, request_to_dict
from nightshift.observability.audit_chain import (
    GENESIS_HASH,
    AuditChain,
    AuditEntry,
    AuditError,
    AuditRecord,
    BreakKind,
    canonical_json,
    decision_entry,
    seal,
    verify,
)

from .builders import NOW, agent, context, proposal


def entry(i: int) -> AuditEntry:
    return AuditEntry(
        at=NOW + timedelta(seconds=i),
        actor="triage",
        owner="olivia",
        authority_class="autonomous",
        phase="autonomous-l1",
        chain_id="chain-0001",
        intent=f"hypothesis h-{i}: firewall change cascaded into timeouts",
        request={"action": "restart-pod", "target": {"namespace": "shop", "name": f"p-{i}"}},
        decision="allow",
        reason="auto_execute",
        message="in scope and above the threshold",
    )


def chain_of(n: int) -> list[AuditRecord]:
    c = AuditChain()
    return [c.append(entry(i)) for i in range(n)]


def test_intact_chain_verifies() -> None:
    records = chain_of(10)
    result = verify(records, expected_head=records[-1].hash, expected_count=10)
    assert result.ok
    assert result.checked == 10
    assert result.head == records[-1].hash


def test_first_record_links_to_genesis_and_each_next_to_its_predecessor() -> None:
    records = chain_of(3)
    assert records[0].prev_hash == GENESIS_HASH
    assert [r.prev_hash for r in records[1:]] == [r.hash for r in records[:-1]]
    assert [r.seq for r in records] == [0, 1, 2]


def test_edited_record_is_detected_and_named() -> None:
    records = chain_of(10)
    records[4] = replace(records[4], entry=replace(records[4].entry, decision="deny"))
    broken = verify(records).first_broken
    assert broken is not None
    assert (broken.seq, broken.kind) == (4, BreakKind.EDITED)


def test_edited_and_rehashed_record_breaks_the_next_link() -> None:
    records = chain_of(10)
    forged = seal(replace(records[4].entry, reason="approval_required"), records[3])
    records[4] = forged
    broken = verify(records).first_broken
    assert broken is not None
    assert (broken.seq, broken.kind) == (5, BreakKind.RELINKED)


def test_deleted_record_is_detected_and_named() -> None:
    records = chain_of(10)
    del records[6]
    broken = verify(records).first_broken
    assert broken is not None
    assert (broken.index, broken.kind) == (6, BreakKind.DELETED)
    assert "seq 6..6 are missing" in broken.message


def test_reordered_records_are_detected_and_named() -> None:
    records = chain_of(10)
    records[2], records[3] = records[3], records[2]
    broken = verify(records).first_broken
    assert broken is not None
    assert (broken.index, broken.seq, broken.kind) == (2, 3, BreakKind.REORDERED)


def test_record_moved_backwards_is_reordering() -> None:
    records = chain_of(10)
    moved = records.pop(1)
    records.insert(5, moved)
    broken = verify(records).first_broken
    assert broken is not None
    assert broken.kind in (BreakKind.REORDERED, BreakKind.DELETED)
    assert broken.index == 1


def test_truncated_tail_is_detected_against_the_anchor() -> None:
    records = chain_of(10)
    head = records[-1].hash
    broken = verify(records[:-1], expected_head=head).first_broken
    assert broken is not None
    assert broken.kind is BreakKind.TRUNCATED
    assert verify(records[:-1], expected_count=10).first_broken is not None


def test_segment_verifies_from_a_checkpoint() -> None:
    records = chain_of(10)
    result = verify(records[5:], start_seq=5, start_hash=records[4].hash)
    assert result.ok


def test_record_round_trips_through_its_flat_form() -> None:
    record = chain_of(1)[0]
    back = AuditRecord.from_dict(record.to_dict())
    assert back == record
    assert verify([back]).ok


def test_canonical_json_is_key_order_independent_and_strict() -> None:
    assert canonical_json({"b": 1, "a": "é"}) == canonical_json({"a": "é", "b": 1})
    assert canonical_json({"a": "é"}) == '{"a":"é"}'.encode()
    with pytest.raises(AuditError):
        canonical_json({"x": float("nan")})
    with pytest.raises(AuditError):
        canonical_json({"x": object()})


def test_naive_time_is_refused() -> None:
    with pytest.raises(AuditError):
        AuditChain().append(replace(entry(0), at=NOW.replace(tzinfo=None)))


def test_records_carry_who_why_what_and_the_decision() -> None:
    body = chain_of(1)[0].to_dict()
    for key in (
        "at",
        "actor",
        "owner",
        "authority_class",
        "phase",
        "chain_id",
        "intent",
        "request",
        "decision",
        "reason",
        "prev_hash",
        "hash",
    ):
        assert key in body


def test_decision_entry_records_identity_intent_request_and_reason() -> None:
    identity = agent()
    request = ActionRequest(proposal(namespace="payments"))
    decision = decide(identity, request, context(identity))
    record = AuditChain().append(
        decision_entry(
            at=NOW,
            agent=identity,
            request=request_to_dict(request),
            decision=decision,
            intent="h-1: checkout pods crash-looping after OOM",
            chain_id="chain-0001",
        )
    )
    body = record.to_dict()
    assert body["owner"] == "olivia"
    assert body["authority_class"] == "autonomous"
    assert body["reason"] == "out_of_scope"
    assert body["request"]["target"]["namespace"] == "payments"
    assert body["extra"]["follow_up"] == "human_review"
    assert verify([record]).ok
