"""The audit trail is append-only and tamper-evident on both databases:
editing, deleting, reordering or truncating records is detected and the first
broken link is named."""

from __future__ import annotations

from sqlalchemy import delete, select, update

from nightshift.domain.access import Caller
from nightshift.domain.vocabulary import PrincipalKind, Role
from nightshift.services.audit import human_entry
from nightshift.store.tables import AuditRecordRow
from tests.support.control_plane import World

LEAD = Caller("lead", PrincipalKind.HUMAN, frozenset({Role.OPS_LEAD}), user_id="x")


def _fill(world: World, n: int = 12) -> None:
    world.container.audit.append(
        [human_entry(LEAD, intent=f"change {i}", request={"n": i}) for i in range(n)]
    )


def test_a_fresh_trail_verifies_with_every_record_linked(world: World) -> None:
    _fill(world)
    report = world.container.audit.verify()
    assert report.ok, report.message
    # make_world registered an agent (one record) before we appended twelve.
    assert report.checked == 13


def test_editing_one_record_is_detected_and_named(world: World) -> None:
    _fill(world)
    with world.container.db.transaction() as s:
        row = s.get(AuditRecordRow, 5)
        assert row is not None
        body = dict(row.body)
        body["intent"] = "nothing to see here"
        row.body = body
    report = world.container.audit.verify()
    assert not report.ok
    assert (report.first_broken_seq, report.kind) == (5, "edited")


def test_deleting_a_record_in_the_middle_is_detected(world: World) -> None:
    _fill(world)
    with world.container.db.transaction() as s:
        s.execute(delete(AuditRecordRow).where(AuditRecordRow.seq == 7))
    report = world.container.audit.verify()
    assert (report.ok, report.kind) == (False, "deleted")
    assert report.first_broken_seq == 8


def test_deleting_the_newest_records_is_detected_through_the_head(world: World) -> None:
    _fill(world)
    with world.container.db.transaction() as s:
        s.execute(delete(AuditRecordRow).where(AuditRecordRow.seq >= 10))
    report = world.container.audit.verify()
    assert (report.ok, report.kind) == (False, "truncated")


def test_swapping_two_records_is_detected(world: World) -> None:
    _fill(world)
    with world.container.db.transaction() as s:
        a = s.scalar(select(AuditRecordRow).where(AuditRecordRow.seq == 3))
        b = s.scalar(select(AuditRecordRow).where(AuditRecordRow.seq == 4))
        assert a is not None and b is not None
        a_body, b_body = dict(a.body), dict(b.body)
        s.execute(update(AuditRecordRow).where(AuditRecordRow.seq == 3).values(body=b_body))
        s.execute(update(AuditRecordRow).where(AuditRecordRow.seq == 4).values(body=a_body))
    report = world.container.audit.verify()
    assert not report.ok
    assert report.first_broken_seq == 3


def test_appends_after_verification_keep_the_chain_intact(world: World) -> None:
    _fill(world, 3)
    assert world.container.audit.verify().ok
    _fill(world, 3)
    assert world.container.audit.verify().ok
