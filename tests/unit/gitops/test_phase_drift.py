"""``k8s drift --git`` compares the phase each agent runs at on the cluster (its
phase ServiceAccount) with the phase Git declares (the values file holding it)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from nightshift.domain.actions import load_action_catalog
from nightshift.domain.agent_codec import identity_from
from nightshift.domain.agents import AgentIdentity
from nightshift.domain.vocabulary import TrustPhase
from nightshift.gitops.drift import PhaseDrift, phase_drift
from nightshift.gitops.promotion import declared_phases
from nightshift.gitops.working_copy import GitOpsRefused
from nightshift.k8s.helm_values import phase_values
from nightshift.k8s.live_phases import live_phases
from nightshift.k8s.manifests import RenderConfig, service_account
from tests.unit.k8s.fake_kube import FakeKubeApi

OWNER = {"id": "oncall", "name": "oncall", "kind": "human", "contact": "oncall@example.org"}
NS = "nightshift-agents"


def _identity(name: str, phase: str) -> AgentIdentity:
    return identity_from({"name": name, "owner": OWNER, "authority_class": "supervised",
                          "phase": phase, "boundaries": {"namespaces": ["shop"],
                                                         "domains": ["kubernetes"]}})  # fmt: skip


def _write(chart: Path, phase: str, names: tuple[str, ...]) -> None:
    ids = [_identity(n, phase) for n in names]
    doc = phase_values("dev", TrustPhase(phase), ids, load_action_catalog(), RenderConfig())
    (chart / f"values-dev-{phase}.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))


@pytest.fixture
def chart(tmp_path: Path) -> Path:
    """Git declares bot and peer in dev's shadow, quiet in assist."""
    chart = tmp_path / "gitops" / "chart"
    chart.mkdir(parents=True)
    _write(chart, "shadow", ("bot", "peer"))
    _write(chart, "assist", ("quiet",))
    root = chart.parent
    for args in (
        ("init", "--quiet", "-b", "main"),
        ("add", "."),
        ("-c", "user.name=t", "-c", "user.email=t@x", "commit", "--quiet", "-m", "i"),
    ):
        subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)
    return chart


def _cluster(*live: tuple[str, str]) -> FakeKubeApi:
    api = FakeKubeApi()
    for name, phase in live:
        api.add("serviceaccounts", service_account(_identity(name, phase), RenderConfig()))
    api.add("serviceaccounts", {"metadata": {"name": "default", "namespace": NS}})  # not ours
    return api


def test_an_agent_live_at_another_phase_than_git_declares_is_drift(chart: Path) -> None:
    api = _cluster(("bot", "shadow"), ("peer", "assist"), ("quiet", "assist"),
                   ("quiet", "shadow"), ("stray", "limited-remediation"))  # fmt: skip
    declared = declared_phases(chart, "dev")
    assert declared == {"bot": "shadow", "peer": "shadow", "quiet": "assist"}
    found = phase_drift(declared, live_phases(api, NS), "dev")
    assert found == [
        PhaseDrift("peer", "dev", "shadow", ("assist",)),
        PhaseDrift("quiet", "dev", "assist", ("assist", "shadow")),  # the old one left behind
        PhaseDrift("stray", "dev", None, ("limited-remediation",)),
    ]
    assert str(found[0]) == "[phase] peer in dev: Git declares shadow, the cluster runs assist"
    assert str(found[2]).endswith("Git declares no phase, the cluster runs limited-remediation")


def test_an_agent_git_declares_but_the_cluster_does_not_run_is_drift(chart: Path) -> None:
    api = _cluster(("bot", "shadow"), ("peer", "shadow"))
    (gone,) = phase_drift(declared_phases(chart, "dev"), live_phases(api, NS), "dev")
    assert str(gone) == "[phase] quiet in dev: Git declares assist, nothing is live"


def test_as_declared_is_no_drift_and_two_phase_files_for_one_agent_are_refused(
    chart: Path,
) -> None:
    api = _cluster(("bot", "shadow"), ("peer", "shadow"), ("quiet", "assist"))
    assert phase_drift(declared_phases(chart, "dev"), live_phases(api, NS), "dev") == []
    _write(chart, "limited-remediation", ("bot",))
    with pytest.raises(GitOpsRefused, match="bot is declared in dev's shadow and limited-rem"):
        declared_phases(chart, "dev")


def test_k8s_drift_help_names_the_environment_option() -> None:
    import typer

    from nightshift.cli.k8s import register

    app = typer.Typer()
    register(app)
    out = CliRunner().invoke(app, ["k8s", "drift", "--help"], env={"COLUMNS": "200"}).output
    assert "--env" in out and "--values-dir" in out
