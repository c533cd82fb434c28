"""The audit anchors' signer port: whoever signs the head (a transit key on
Vault/OpenBao, a key file, or the fake here), the anchor file holds only heads
that key signed, a signature by any other key is refused, and a signer that
cannot be reached leaves nothing written and nothing called intact."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from nightshift.bootstrap import audit_signer
from nightshift.domain.access import Caller
from nightshift.domain.vocabulary import PrincipalKind, Role
from nightshift.observability.audit_anchor import AnchorKey, AnchorSigner, AnchorSink
from nightshift.observability.audit_signer_fake import FakeSigner
from nightshift.secrets.vault_transit import TransitSigner
from nightshift.services.audit import AnchorUnsigned, AuditService, human_entry
from nightshift.settings import Settings
from nightshift.store import migrate
from nightshift.store.database import Database

ADMIN = Caller(name="admin", kind=PrincipalKind.HUMAN, roles=frozenset({Role.ADMIN}))


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'audit.db'}")
    migrate.upgrade(database.engine)
    yield database
    database.dispose()


def _audit(audit: AuditService, n: int) -> None:
    audit.append([human_entry(ADMIN, intent=f"change {i}", request={"n": i}) for i in range(n)])


@pytest.mark.parametrize("signer", [FakeSigner(), AnchorKey(Path("/nonexistent"))])
def test_each_signer_satisfies_the_port(signer: AnchorSigner) -> None:
    assert isinstance(signer.name, str) and signer.name
    assert callable(signer.sign) and callable(signer.verify)


def test_a_head_signed_by_the_signer_verifies(db: Database, tmp_path: Path) -> None:
    signer = FakeSigner()
    audit = AuditService(db, AnchorSink(tmp_path / "anchors.jsonl", signer))
    _audit(audit, 4)
    anchor = audit.anchor()
    assert (anchor.count, signer.signed) == (4, 1)
    report = audit.verify()
    assert report.ok and report.anchors == 1, report


def test_a_signature_from_another_key_is_refused(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "anchors.jsonl"
    _audit(AuditService(db), 3)
    AuditService(db, AnchorSink(path, FakeSigner("someone else's key"))).anchor()
    report = AuditService(db, AnchorSink(path, FakeSigner("our key"))).verify()
    assert not report.ok and report.kind == "anchor"
    assert "does not verify with the our key" in report.message


def test_a_signer_down_at_anchor_time_writes_nothing(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "anchors.jsonl"
    signer = FakeSigner()
    audit = AuditService(db, AnchorSink(path, signer))
    _audit(audit, 2)
    audit.anchor()
    before = path.read_bytes()
    _audit(audit, 2)
    signer.down = True
    with pytest.raises(AnchorUnsigned, match="unreachable"):
        audit.anchor()
    assert path.read_bytes() == before
    failures: list[str] = []
    audit.on_anchor_failure = failures.append
    assert audit.anchor_if_due(0) is None  # the server's pass logs it and retries later
    assert failures == ["signer_unavailable"]
    assert path.read_bytes() == before
    signer.down = False
    assert audit.anchor_if_due(0) is None  # not before the retry time
    assert path.read_bytes() == before and failures == ["signer_unavailable"]


def test_a_first_anchor_with_the_signer_down_creates_no_file(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "anchors.jsonl"
    signer = FakeSigner()
    signer.down = True
    audit = AuditService(db, AnchorSink(path, signer))
    _audit(audit, 1)
    with pytest.raises(AnchorUnsigned):
        audit.anchor()
    assert not path.exists()


def test_verify_with_the_signer_down_is_neither_intact_nor_forged(
    db: Database, tmp_path: Path
) -> None:
    signer = FakeSigner()
    audit = AuditService(db, AnchorSink(tmp_path / "anchors.jsonl", signer))
    _audit(audit, 2)
    audit.anchor()
    signer.down = True
    report = audit.verify()
    assert not report.ok and report.kind == "unverifiable"
    assert "cannot check the anchors' signatures" in report.message


def test_the_signed_message_names_count_head_and_time(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "anchors.jsonl"
    signer = FakeSigner()
    audit = AuditService(db, AnchorSink(path, signer))
    _audit(audit, 2)
    anchor = audit.anchor()
    line = json.loads(path.read_text())
    assert signer.verify(anchor.message(), line["signature"])
    moved = anchor.message().replace(b"\n2\n", b"\n1\n")
    assert moved != anchor.message() and not signer.verify(moved, line["signature"])


def test_the_vault_broker_chooses_the_transit_signer(tmp_path: Path) -> None:
    vault = Settings(
        data_dir=tmp_path,
        secrets_backend="vault",
        vault_addr="http://127.0.0.1:9",
        vault_token="t0ken-secret",
        audit_transit_key="audit-k",
        vault_transit_mount="sign-here",
    )
    signer = audit_signer(vault)
    assert isinstance(signer, TransitSigner)
    assert "sign-here/audit-k" in signer.name and "t0ken-secret" not in repr(vars(signer))
    assert isinstance(audit_signer(Settings(data_dir=tmp_path)), AnchorKey)
