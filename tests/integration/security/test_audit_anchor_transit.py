"""With the Vault broker the audit head is signed by OpenBao's transit engine, so
the signing key is on no disk Nightshift writes: a real OpenBao dev server,
provisioned as docs/secrets.md says (``vault_setup.ensure_transit_key``, the
``nightshift-control-plane`` policy that ``nightshift vault policies`` prints),
and a real SQLite database that an attacker rewrites."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from hvac import exceptions as hvac_errors
from typer.testing import CliRunner

from nightshift.cli.main import app
from nightshift.observability.audit_anchor import Anchor, AnchorSink
from nightshift.secrets.vault_client import VaultAuth, VaultEndpoint
from nightshift.secrets.vault_transit import TransitSigner
from nightshift.services.audit import AnchorRefused, AnchorUnsigned
from tests.integration.secrets.tcp_proxy import CuttableProxy
from tests.integration.security.test_audit_anchor import (
    EXIT_FAILED,
    Ran,
    _audit,
    _forge_from,
    _rows,
    _truncate,
)
from tests.support import openbao
from tests.support.control_plane import World, make_world

pytestmark = pytest.mark.slow
KEY = "nightshift-audit"


@pytest.fixture(scope="module")
def bao(tmp_path_factory: pytest.TempPathFactory) -> Iterator[openbao.OpenBao]:
    reason = openbao.available()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(reason)  # in CI a missing OpenBao is a failure, never a skip
        pytest.skip(reason)
    with openbao.running(tmp_path_factory.mktemp("bao")) as server:
        yield server


def _world(tmp_path: Path, addr: str, token: str) -> World:
    data = tmp_path / "data"
    data.mkdir()
    return make_world(data, secrets_backend="vault", vault_addr=addr, vault_token=token)


@pytest.fixture
def world(tmp_path: Path, bao: openbao.OpenBao) -> Iterator[World]:
    w = _world(tmp_path, bao.addr, bao.control_token)
    yield w
    w.container.db.dispose()


def nightshift(world: World, *args: str) -> Ran:
    settings = world.container.settings
    env = {
        "NIGHTSHIFT_DATA_DIR": str(settings.data_dir),
        "NIGHTSHIFT_SOURCES_FILE": str(settings.sources_file),
        "NIGHTSHIFT_DATABASE_URL": "",
        "NIGHTSHIFT_SECRETS_BACKEND": "vault",
        "NIGHTSHIFT_VAULT_ADDR": settings.vault_addr,
        "NIGHTSHIFT_VAULT_TOKEN": settings.vault_token.get_secret_value(),
    }
    done = CliRunner().invoke(app, list(args), env=env)
    return Ran(done.exit_code, " ".join(done.output.split()))


def _lines(world: World) -> list[dict[str, object]]:
    path = world.container.settings.audit_anchor_path
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _public_key(bao: openbao.OpenBao, name: str = KEY) -> Ed25519PublicKey:
    keys = bao.admin.read(f"transit/keys/{name}")["data"]["keys"]
    return Ed25519PublicKey.from_public_bytes(base64.b64decode(keys["1"]["public_key"]))


def test_the_head_is_signed_by_the_transit_key_and_verifies(
    world: World, bao: openbao.OpenBao
) -> None:
    _audit(world, 5)
    ran = nightshift(world, "audit", "anchor")
    assert ran.code == 0, ran.out
    (line,) = _lines(world)
    assert line["head"] == _rows(world)[-1].hash and line["count"] == len(_rows(world))
    signature = str(line["signature"])
    assert signature.startswith("vault:v1:")
    # Checked independently of Nightshift: the transit key's public half verifies it.
    signed = Anchor(
        int(str(line["count"])), str(line["head"]), datetime.fromisoformat(str(line["at"]))
    )
    _public_key(bao).verify(base64.b64decode(signature.removeprefix("vault:v1:")), signed.message())
    # No signing key was written anywhere beside the data.
    assert not world.container.settings.audit_anchor_key_path.exists()
    ran = nightshift(world, "audit", "verify")
    assert ran.code == 0 and "1 signed anchor(s) checked" in ran.out, ran.out
    # The token is in no anchor line and no output.
    assert bao.control_token not in world.container.settings.audit_anchor_path.read_text()
    assert bao.control_token not in ran.out


def test_a_rewritten_rehashed_history_and_a_truncated_tail_are_detected(world: World) -> None:
    _audit(world, 6)
    assert nightshift(world, "audit", "anchor").code == 0
    total = len(_rows(world))
    _forge_from(world, 2)  # edit a row, recompute every later hash, move the head
    ran = nightshift(world, "audit", "verify")
    assert ran.code == EXIT_FAILED and "(rewritten)" in ran.out, ran.out
    with pytest.raises(AnchorRefused):  # and the forged head is not signed
        world.container.audit.anchor()
    assert len(_lines(world)) == 1
    _truncate(world, total - 2)
    ran = nightshift(world, "audit", "verify")
    assert ran.code == EXIT_FAILED and f"signed {total}" in ran.out, ran.out


def test_a_forged_head_signed_with_another_key_is_refused(
    world: World, bao: openbao.OpenBao
) -> None:
    """The attacker rewrites the database and the anchor file, and signs the forged
    head with a transit key of their own: the signature is not the audit key's."""
    _audit(world, 4)
    assert nightshift(world, "audit", "anchor").code == 0
    _forge_from(world, 1)
    forged = world.container.audit.verify()
    assert not forged.ok
    bao.admin.write_data("transit/keys/attacker", data={"type": "ed25519"})
    theirs = TransitSigner(VaultEndpoint(addr=bao.addr), VaultAuth(token="ROOT"), key="attacker")
    path = world.container.settings.audit_anchor_path
    path.unlink()
    AnchorSink(path, theirs).append(len(_rows(world)), _rows(world)[-1].hash)
    assert str(_lines(world)[0]["signature"]).startswith("vault:v1:")
    ran = nightshift(world, "audit", "verify")
    assert ran.code == EXIT_FAILED, ran.out
    assert "signature does not verify with the transit key transit/nightshift-audit" in ran.out
    # A file-key (hex) signature is refused the same way, not an error.
    doc = _lines(world)[0]
    path.write_text(json.dumps({**doc, "signature": "ab" * 64}) + "\n")
    assert "signature does not verify" in nightshift(world, "audit", "verify").out


def test_the_control_plane_may_only_sign_and_verify_with_the_audit_key(
    bao: openbao.OpenBao,
) -> None:
    printed = CliRunner().invoke(app, ["vault", "policies"]).output
    assert f'path "transit/sign/{KEY}"' in printed and f'path "transit/verify/{KEY}"' in printed
    control = VaultEndpoint(addr=bao.addr).client(bao.control_token)
    bao.admin.write_data("transit/keys/other-key", data={"type": "ed25519"})
    for path, data in (
        ("transit/sign/other-key", {"input": "aGk="}),  # another key
        (f"transit/keys/{KEY}/rotate", {}),  # rotate ours
        (f"transit/keys/{KEY}/config", {"deletion_allowed": True}),
    ):
        with pytest.raises(hvac_errors.Forbidden):
            control.write_data(path, data=data)
    with pytest.raises(hvac_errors.Forbidden):
        control.read(f"transit/export/signing-key/{KEY}")


def test_openbao_down_at_anchor_time_writes_nothing_and_verify_says_unverified(
    tmp_path: Path, bao: openbao.OpenBao
) -> None:
    with CuttableProxy(int(bao.addr.rsplit(":", 1)[1])) as proxy:
        world = _world(tmp_path, proxy.addr, bao.control_token)
        _audit(world, 3)
        assert nightshift(world, "audit", "anchor").code == 0
        before = world.container.settings.audit_anchor_path.read_bytes()
        _audit(world, 2)
        proxy.cut()
        ran = nightshift(world, "audit", "anchor")
        assert ran.code == EXIT_FAILED and "nothing anchored" in ran.out, ran.out
        assert "unreachable" in ran.out and bao.control_token not in ran.out
        with pytest.raises(AnchorUnsigned, match="unreachable"):
            world.container.audit.anchor()
        assert world.container.audit.anchor_if_due(0) is None  # logged, retried later
        registry = world.container.telemetry.metrics.registry
        failures = registry.get_sample_value(
            "nightshift_audit_anchor_failures_total", {"reason": "signer_unavailable"}
        )
        assert failures == 1.0  # what an operator alerts on
        assert world.container.settings.audit_anchor_path.read_bytes() == before
        ran = nightshift(world, "audit", "verify")
        assert ran.code == EXIT_FAILED and "not verified" in ran.out, ran.out
        assert "intact" not in ran.out
        proxy.restore()
        ran = nightshift(world, "audit", "anchor")
        assert ran.code == 0 and f"anchored {len(_rows(world))} records" in ran.out, ran.out
        assert len(_lines(world)) == 2
        world.container.db.dispose()
