"""``nightshift promote`` / ``demote`` against a real ``nightshift up`` and a real Git
working copy: the control plane checks the gates, the commit moves the agent
between the chart's values files, and nothing changes live."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
import yaml

from tests.integration.cli.conftest import ALL_DOMAINS, Cli

pytestmark = pytest.mark.slow
EXIT_FAILED, EXIT_API = 1, 4
AGENT = "git-bot"


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True
    ).stdout


def _gitops_repo(cli: Cli, tmp: Path) -> Path:
    """A repository declaring git-bot in dev's shadow file, another agent in assist."""
    repo, chart = tmp / "gitops", tmp / "gitops" / "chart"
    chart.mkdir(parents=True)
    owner = {"id": "oncall", "name": "oncall", "kind": "human", "contact": "oncall@example.org"}
    for name, phase in ((AGENT, "shadow"), ("other-bot", "assist")):
        agents = [{"name": name, "owner": owner, "authority_class": "supervised", "phase": phase,
                   "boundaries": {"namespaces": ["shop"], "domains": ["kubernetes"]}}]  # fmt: skip
        rendered = cli("k8s", "render", "--values", "--agents", cli.file(f"{name}.yaml",
                       yaml.safe_dump({"agents": agents})), "--environment", "dev",
                       "--phase", phase).out  # fmt: skip
        (chart / f"values-dev-{phase}.yaml").write_text(rendered)
    _git(repo, "init", "--quiet", "-b", "main")
    _git(repo, "add", ".")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@x", "commit", "--quiet", "-m", "init")
    return repo


def _values(repo: Path, phase: str) -> dict[str, object]:
    loaded: dict[str, object] = yaml.safe_load(
        (repo / f"chart/values-dev-{phase}.yaml").read_text()
    )
    return loaded


def _rendered(repo: Path, phase: str) -> dict[str, object]:
    agents = _values(repo, phase)["agents"]
    assert isinstance(agents, dict)
    return dict(agents["rendered"])


def _earn_assist_gates(cli: Cli) -> None:
    domains = [arg for d in ALL_DOMAINS for arg in ("--domain", d)]
    cli("agents", "register", AGENT, "--owner", "oncall", "--class", "supervised", *domains,
        "--namespace", "*")  # fmt: skip
    easy = {"to_assist": {"min_sample": 0, "min_success_rate": 0, "min_domains": 0,
                          "max_unsafe_attempts": None}}  # fmt: skip
    cli.lead("agents", "thresholds", AGENT, "--from-file", cli.file("easy.json", easy))


def test_promote_writes_one_commit_after_the_gates_and_demote_a_branch(
    cli: Cli, tmp_path: Path
) -> None:
    _earn_assist_gates(cli)
    repo = _gitops_repo(cli, tmp_path)
    head = _git(repo, "rev-parse", "HEAD")
    args = ("promote", AGENT, "--to", "assist", "--env", "dev", "--git", str(repo),
            "--reason", "shadow reviews were right")  # fmt: skip
    # Gates not met: the control plane refuses, and Git is untouched.
    refused = cli.lead(*args, expect=EXIT_API)
    assert "409" in refused.err and "diagnostic_accuracy" in refused.err
    assert _git(repo, "rev-parse", "HEAD") == head
    inv = cli("investigate", "--scenario", "two-am-cascade", "--agent", AGENT, "--json").json()
    cli("investigations", "events", inv["id"], "--json")
    cli("verdict", "outcome", inv["id"], "--category", "change", "--remediation-class",
        "revert-firewall-rule", "--fault", "firewall-rule-change", "--resource",
        "Change/CHG-20417")  # fmt: skip
    cli.lead("agents", "sign-off", AGENT, "--target", "assist", "--role", "ops-lead")
    # A dirty working copy is refused before anything is asked of the control plane.
    shadow_file = repo / "chart/values-dev-shadow.yaml"
    shadow_file.write_text(shadow_file.read_text() + "# unfinished edit\n")
    dirty = cli.lead(*args, expect=EXIT_FAILED)
    assert "uncommitted changes" in dirty.err
    _git(repo, "checkout", "--", ".")

    done = cli.lead(*args)
    assert "signed off by lead as ops-lead" in done.out and "branch main" in done.out
    assert _git(repo, "rev-list", "--count", "HEAD").strip() == "2"
    msg = _git(repo, "log", "-1", "--format=%B")
    assert msg.startswith(f"Promote {AGENT} from shadow to assist in dev\n")
    assert "Gate: diagnostic_accuracy = 1 (needs > 0; passed)" in msg
    assert "Gate: sample_size = 1 (needs >= 0; passed)" in msg
    assert "Nightshift-Phase-Change: shadow -> assist" in msg and "Requested-By: lead" in msg
    assert "Signed-Off-By: lead (ops-lead)" in msg and "Audit-Record: " in msg
    assert sorted(_git(repo, "show", "--name-only", "--format=", "HEAD").split()) == [
        "chart/values-dev-assist.yaml", "chart/values-dev-shadow.yaml"]  # fmt: skip
    assert AGENT not in _rendered(repo, "shadow")
    moved = _rendered(repo, "assist")
    assert set(moved) == {AGENT, "other-bot"}
    entry = moved[AGENT]
    assert isinstance(entry, dict) and entry["phase"] == "assist"
    names = {o["metadata"]["name"] for o in entry["objects"]}
    assert f"nsa-{AGENT}-assist" in names
    # No live change: the control plane still has it in shadow.
    assert cli("agents", "gates", AGENT, "--json").json()["current"] == "shadow"

    # Once merged and applied, the control plane records it (as today's promote does)...
    cli.lead("agents", "promote", AGENT, "--to", "assist", "--reason", "merged")
    # The investigation asked for an out-of-scope action: the reconcile loop demotes the
    # agent live at once (safety waits for no review); Git still says assist.
    deadline = time.monotonic() + 30
    while cli("agents", "gates", AGENT, "--json").json()["current"] != "shadow":
        assert time.monotonic() < deadline, "the automatic demotion did not come"
        time.sleep(0.5)
    # Git catches up with that demotion the same way, here on a branch for review.
    demoted = cli.lead("demote", AGENT, "--to", "shadow", "--env", "dev", "--git", str(repo),
                       "--branch", "demote-git-bot", "--reason", "wrong twice")  # fmt: skip
    assert "branch demote-git-bot" in demoted.out
    assert _git(repo, "rev-parse", "--abbrev-ref", "HEAD").strip() == "main"
    assert AGENT in _rendered(repo, "assist")  # main is unchanged
    branch_msg = _git(repo, "log", "-1", "--format=%B", "demote-git-bot")
    assert branch_msg.startswith(f"Demote {AGENT} from assist to shadow in dev")
    assert "Gate: none" in branch_msg
    # Going up with demote (or down with promote) is a usage error.
    cli.lead("demote", AGENT, "--to", "limited-remediation", "--env", "dev", "--git", str(repo),
             "--reason", "x", expect=2)  # fmt: skip
