"""Whoever can write the database can rewrite the audit chain and its head:
edit a record, recompute every later hash with ``record_hash``, move
``audit_head``. ``nightshift audit anchor`` signs the head with a key outside
the database and appends it to a file outside it; ``nightshift audit verify``
then detects the rewritten history and the truncated tail. The commands run
through the CLI app on a real SQLite database, and once each in their own
process, as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import delete, select
from typer.testing import CliRunner

from nightshift.cli.main import app
from nightshift.domain.access import Caller
from nightshift.domain.vocabulary import PrincipalKind, Role
from nightshift.observability.audit_chain import AuditRecord, record_hash
from nightshift.services.audit import AnchorRefused, human_entry
from nightshift.store.tables import AuditHeadRow, AuditRecordRow
from tests.support.control_plane import World, make_world

EXIT_FAILED = 1


@dataclass
class Ran:
    code: int
    out: str


@pytest.fixture
def world(tmp_path: Path) -> World:
    data = tmp_path / "data"
    data.mkdir()
    return make_world(data)


def _env(world: World) -> dict[str, str]:
    settings = world.container.settings
    return {
        "NIGHTSHIFT_DATA_DIR": str(settings.data_dir),
        "NIGHTSHIFT_SOURCES_FILE": str(settings.sources_file),
    }


def nightshift(world: World, *args: str) -> Ran:
    """The command through the CLI app, in this process (fast)."""
    env = {**_env(world), "NIGHTSHIFT_DATABASE_URL": ""}
    done = CliRunner().invoke(app, list(args), env=env)
    return Ran(done.exit_code, " ".join(done.output.split()))


def nightshift_process(world: World, *args: str) -> Ran:
    """The command as a user runs it: its own process."""
    env = {**os.environ, **_env(world)}
    env.pop("NIGHTSHIFT_DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "nightshift", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    return Ran(done.returncode, " ".join((done.stdout + done.stderr).split()))


def _audit(world: World, n: int) -> None:
    admin = Caller(name="admin", kind=PrincipalKind.HUMAN, roles=frozenset({Role.ADMIN}))
    world.container.audit.append(
        [human_entry(admin, intent=f"change {i}", request={"n": i}) for i in range(n)]
    )


def _rows(world: World) -> list[AuditRecordRow]:
    with world.container.db.read() as s:
        return list(s.scalars(select(AuditRecordRow).order_by(AuditRecordRow.seq)))


def _forge_from(world: World, seq: int) -> None:
    """Edit record ``seq`` and re-hash it and every later one, then move the head:
    the chain and the head agree with each other afterwards."""
    with world.container.db.transaction() as s:
        rows = list(s.scalars(select(AuditRecordRow).order_by(AuditRecordRow.seq)))
        prev = rows[seq - 1].hash if seq else "0" * 64
        for row in rows[seq:]:
            body = dict(row.body)
            if row.seq == seq:
                body["actor"] = "someone-else"
            record = AuditRecord.from_dict({**body, "prev_hash": prev, "hash": ""})
            new_hash = record_hash(row.seq, record.entry, prev)
            row.body = {**body, "prev_hash": prev, "hash": new_hash}
            row.actor = body["actor"]
            row.prev_hash, row.hash, prev = prev, new_hash, new_hash
        head = s.get(AuditHeadRow, 1)
        assert head is not None
        head.hash = prev


def _truncate(world: World, keep: int) -> None:
    with world.container.db.transaction() as s:
        s.execute(delete(AuditRecordRow).where(AuditRecordRow.seq >= keep))
        last = s.get(AuditRecordRow, keep - 1)
        head = s.get(AuditHeadRow, 1)
        assert last is not None and head is not None
        head.seq, head.hash, head.count = last.seq, last.hash, keep


def test_anchor_signs_the_head_outside_the_database(world: World) -> None:
    _audit(world, 5)
    settings = world.container.settings
    count = len(_rows(world))
    ran = nightshift_process(world, "audit", "anchor")
    assert ran.code == 0, ran.out
    assert f"anchored {count} records" in ran.out
    for outside in (settings.audit_anchor_path, settings.audit_anchor_key_path):
        assert outside.exists() and settings.data_dir not in outside.parents
        assert oct(outside.stat().st_mode & 0o777) == oct(0o600)
    (line,) = settings.audit_anchor_path.read_text().splitlines()
    assert json.loads(line)["head"] == _rows(world)[-1].hash
    ran = nightshift_process(world, "audit", "verify")
    assert ran.code == 0 and "1 signed anchor(s) checked" in ran.out, ran.out


def test_a_rewritten_and_rehashed_history_is_detected(world: World) -> None:
    _audit(world, 6)
    assert nightshift(world, "audit", "anchor").code == 0
    _forge_from(world, 2)
    assert world.container.audit.verify().kind == "rewritten"
    ran = nightshift(world, "audit", "verify")
    assert ran.code == EXIT_FAILED
    assert "rewritten" in ran.out
    refused = nightshift(world, "audit", "anchor")  # a forged head is never signed
    assert refused.code == EXIT_FAILED and "audit chain broken" in refused.out
    assert len(world.container.settings.audit_anchor_path.read_text().splitlines()) == 1


def test_a_truncated_tail_with_a_rewritten_head_is_detected(world: World) -> None:
    _audit(world, 6)
    assert nightshift(world, "audit", "anchor").code == 0
    total = len(_rows(world))
    _truncate(world, total - 2)
    ran = nightshift(world, "audit", "verify")
    assert ran.code == EXIT_FAILED
    assert "the anchor of" in ran.out and f"signed {total}" in ran.out


def test_a_forged_anchor_line_is_detected(world: World) -> None:
    _audit(world, 3)
    assert nightshift(world, "audit", "anchor").code == 0
    path = world.container.settings.audit_anchor_path
    doc = json.loads(path.read_text())
    doc["count"], doc["at"] = 1, datetime.now(UTC).isoformat()  # moved back, old signature
    path.write_text(json.dumps(doc) + "\n")
    ran = nightshift(world, "audit", "verify")
    assert ran.code == EXIT_FAILED and "signature does not verify" in ran.out


def test_edits_after_the_last_anchor_still_need_a_later_anchor(world: World) -> None:
    """What the anchor does not cover, it cannot vouch for: anchoring often is the
    point. A record appended after the anchor is checked by the chain alone."""
    _audit(world, 3)
    assert nightshift(world, "audit", "anchor").code == 0
    _audit(world, 2)
    assert nightshift(world, "audit", "verify").code == 0
    assert nightshift(world, "audit", "anchor").code == 0
    assert len(world.container.settings.audit_anchor_path.read_text().splitlines()) == 2


def test_the_running_server_anchors_new_records_at_its_interval(world: World) -> None:
    """The reconcile loop's step: an anchor when records were added and the last
    one is old enough; nothing when nothing changed or it is too soon."""
    audit = world.container.audit
    path = world.container.settings.audit_anchor_path
    _audit(world, 2)
    first = audit.anchor_if_due(3600)
    assert first is not None and first.count == len(_rows(world))
    assert audit.anchor_if_due(0) is None  # nothing new since
    _audit(world, 1)
    assert audit.anchor_if_due(3600) is None  # new records, but too soon
    later = audit.anchor_if_due(0)
    assert later is not None and later.count == first.count + 1
    assert len(path.read_text().splitlines()) == 2
    _forge_from(world, 1)
    _audit(world, 1)
    with pytest.raises(AnchorRefused):  # a forged chain is never signed, even on a timer
        audit.anchor_if_due(0)
