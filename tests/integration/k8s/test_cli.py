"""`nightshift k8s apply` and `drift` against the real API server."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import typer
import yaml
from typer.testing import CliRunner

from nightshift.cli.k8s import register
from nightshift.domain.agent_codec import identity_to
from nightshift.k8s.client import KubeApi, resource_path
from tests.integration.k8s.cluster import ControlPlane
from tests.integration.k8s.conftest import AGENTS, AGENTS_NS, APP_NS, LIMITED, SHADOW

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


def _phase_repo(root: Path, declared: dict[str, str]) -> Path:
    """A GitOps working copy whose dev values files declare each agent at a phase."""
    from dataclasses import replace

    from nightshift.domain.actions import load_action_catalog
    from nightshift.domain.vocabulary import TrustPhase
    from nightshift.k8s.helm_values import phase_values
    from nightshift.k8s.manifests import RenderConfig

    chart = root / "chart"
    chart.mkdir(parents=True, exist_ok=True)
    for old in chart.glob("values-dev-*.yaml"):
        old.unlink()
    for phase in sorted(set(declared.values())):
        ids = [replace(a, phase=TrustPhase(phase)) for a in AGENTS if declared[a.name] == phase]
        doc = phase_values("dev", TrustPhase(phase), ids, load_action_catalog(),
                           RenderConfig(agents_namespace=AGENTS_NS))  # fmt: skip
        (chart / f"values-dev-{phase}.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    git = ["git", "-C", str(root)]
    subprocess.run([*git, "init", "--quiet", "-b", "main"], check=True)
    subprocess.run([*git, "add", "-A", "."], check=True)
    subprocess.run([*git, "-c", "user.name=t", "-c", "user.email=t@x", "commit", "--quiet",
                    "-m", "phases"], check=True)  # fmt: skip
    return root


def test_drift_with_git_reports_an_agent_live_at_another_phase_than_git_declares(
    control_plane: ControlPlane, governed: KubeApi, tmp_path: Path
) -> None:
    agents = tmp_path / "agents.yaml"
    agents.write_text(yaml.safe_dump({"agents": [identity_to(a) for a in AGENTS]}))
    app = typer.Typer()
    register(app)
    common = ["--agents", str(agents), "--namespace", AGENTS_NS,
              "--kubeconfig", str(control_plane.kubeconfig)]  # fmt: skip
    runner = CliRunner()
    applied = runner.invoke(app, ["k8s", "apply", *common])
    assert applied.exit_code == 0, applied.output
    # Git declares fixer one phase lower than the cluster runs it (a promotion applied
    # by hand, never merged): the RBAC matches the registry, but Git disagrees.
    phases = {a.name: a.phase.value for a in AGENTS}
    repo = _phase_repo(tmp_path / "gitops", {**phases, LIMITED.name: "assist"})
    drifted = runner.invoke(app, ["k8s", "drift", *common, "--git", str(repo), "--env", "dev"])
    assert drifted.exit_code == 1, drifted.output
    assert (
        f"[phase] {LIMITED.name} in dev: Git declares assist, the cluster runs "
        "limited-remediation" in drifted.output
    )
    assert f"[phase] {SHADOW.name} " not in drifted.output  # as Git declares it
    # Once Git declares what runs, the phase is no longer drift.
    _phase_repo(repo, phases)
    agreed = runner.invoke(app, ["k8s", "drift", *common, "--git", str(repo), "--env", "dev"])
    assert f"[phase] {LIMITED.name} " not in agreed.output, agreed.output
