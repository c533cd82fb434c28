"""The CLI stores local-broker credentials without ever echoing them."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from nightshift.cli.main import app


def test_secrets_set_stores_values_encrypted_and_lists_names_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NIGHTSHIFT_DATA_DIR", str(tmp_path))
    runner = CliRunner()
    stored = runner.invoke(
        app, ["secrets", "set", "network", "--from-file", "-"], input='{"token": "s3cr3t-value-77"}'
    )
    assert stored.exit_code == 0, stored.output
    assert "s3cr3t-value-77" not in stored.output
    listed = runner.invoke(app, ["secrets", "list"])
    assert listed.output.strip() == "network/default"
    assert b"s3cr3t-value-77" not in (tmp_path / "secrets" / "secrets.enc").read_bytes()


def test_secrets_set_refuses_values_that_are_not_a_json_object(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NIGHTSHIFT_DATA_DIR", str(tmp_path))
    got = CliRunner().invoke(app, ["secrets", "set", "network", "--from-file", "-"], input="[1]")
    assert got.exit_code == 2
    assert "JSON object" in got.output


def test_vault_policies_prints_one_policy_per_phase_and_domain() -> None:
    got = CliRunner().invoke(app, ["vault", "policies"])
    assert got.exit_code == 0
    for name in (
        "nightshift-control-plane",
        "nightshift-phase-shadow",
        "nightshift-phase-autonomous-l1",
        "nightshift-domain-database",
    ):
        assert f"# ---- policy: {name}" in got.output
