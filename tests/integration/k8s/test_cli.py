"""`nightshift k8s apply` and `drift` against the real API server."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
import yaml
from typer.testing import CliRunner

from nightshift.cli.k8s import register
from nightshift.domain.agent_codec import identity_to
from nightshift.k8s.client import KubeApi, resource_path
from tests.integration.k8s.cluster import ControlPlane
from tests.integration.k8s.conftest import AGENTS, AGENTS_NS, APP_NS, LIMITED

pytestmark = pytest.mark.slow
RBAC = "rbac.authorization.k8s.io/v1"


def test_apply_then_drift_reports_and_fixes_a_hand_widened_role(
    control_plane: ControlPlane, governed: KubeApi, tmp_path: Path
) -> None:
    agents = tmp_path / "agents.yaml"
    agents.write_text(yaml.safe_dump({"agents": [identity_to(a) for a in AGENTS]}))
    app = typer.Typer()
    register(app)
    common = [
        "--agents",
        str(agents),
        "--namespace",
        AGENTS_NS,
        "--kubeconfig",
        str(control_plane.kubeconfig),
    ]
    runner = CliRunner()
    applied = runner.invoke(app, ["k8s", "apply", *common])
    assert applied.exit_code == 0, applied.output
    assert "ServiceAccount/nsa-fixer-limited-remediation -n nightshift-agents" in applied.output

    role = resource_path(RBAC, "roles", APP_NS, "nightshift-fixer-limited-remediation")
    rules = governed.get(role)["rules"]
    widened = [*rules, {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["delete"]}]
    governed.merge_patch(role, {"rules": widened})
    drifted = runner.invoke(app, ["k8s", "drift", *common])
    assert drifted.exit_code == 1
    assert f"[widened] {LIMITED.name} Role/nightshift-fixer-limited-remediation" in drifted.output
    assert "adds delete deployments.apps" in drifted.output

    fixed = runner.invoke(app, ["k8s", "drift", "--fix", *common])
    assert fixed.exit_code == 0, fixed.output
    assert "fixed: re-applied Role/nightshift-fixer-limited-remediation" in fixed.output
    assert governed.get(role)["rules"] == rules
