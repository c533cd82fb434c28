"""``nightshift promote`` / ``demote`` against a real ``nightshift up`` and a real Git
working copy: the control plane checks the gates, the commit moves the agent
between the chart's values files, and nothing changes live. The automatic demotion
is the exception: applied live at once, then committed by the control plane itself
(``NIGHTSHIFT_GITOPS_REPO`` set on ``nightshift up``)."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.integration.cli.conftest import ALL_DOMAINS, Cli, running_cli

pytestmark = pytest.mark.slow
EXIT_FAILED, EXIT_API = 1, 4
AGENT = "git-bot"


@pytest.fixture(scope="module")
def gitops(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the GitOps working copy will be (made by the test, after start-up: the
    control plane resolves it at each demotion)."""
    return tmp_path_factory.mktemp("gitops-root") / "gitops"


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory, gitops: Path) -> Iterator[Cli]:
    with running_cli(tmp_path_factory, {"NIGHTSHIFT_GITOPS_REPO": str(gitops)}) as started:
        yield started


def _audit(cli: Cli, decision: str) -> list[dict[str, Any]]:
    resp = httpx.get(
        f"{cli.plane.url}/v1/audit", params={"actor": "nightshift", "limit": 1000},
        headers={"Authorization": f"Bearer {cli.lead_token}"}, timeout=30,
    )  # fmt: skip
    resp.raise_for_status()
    return [r for r in resp.json() if r["record"]["decision"] == decision]


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True
    ).stdout


def _gitops_repo(cli: Cli, repo: Path) -> Path:
    """A repository declaring git-bot in dev's shadow file, another agent in assist."""
    chart = repo / "chart"
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


def test_promote_writes_one_commit_after_the_gates_and_the_automatic_demotion_its_own(
    cli: Cli, gitops: Path
) -> None:
    _earn_assist_gates(cli)
    repo = _gitops_repo(cli, gitops)
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
    # The values and the agent's Vault policy for the new phase, in one commit.
    assert sorted(_git(repo, "show", "--name-only", "--format=", "HEAD").split()) == [
        "chart/values-dev-assist.yaml", "chart/values-dev-shadow.yaml",
        f"vault/policies/dev/{AGENT}.hcl"]  # fmt: skip
    policy = (repo / f"vault/policies/dev/{AGENT}.hcl").read_text()
    assert "# ---- policy: nightshift-phase-assist\n" in policy and "shadow" not in policy
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
    # agent live at once (safety waits for no review)...
    deadline = time.monotonic() + 30
    while cli("agents", "gates", AGENT, "--json").json()["current"] != "shadow":
        assert time.monotonic() < deadline, "the automatic demotion did not come"
        time.sleep(0.5)
    # ...and then commits it itself, directly on main, so Git and the cluster agree again.
    while _git(repo, "rev-list", "--count", "HEAD").strip() != "3":
        assert time.monotonic() < deadline, "the automatic demotion wrote no commit"
        time.sleep(0.2)
    (demoted,) = _audit(cli, "demoted")
    (committed,) = _audit(cli, "demotion-committed")
    assert committed["seq"] > demoted["seq"]  # Git after the live demotion, never before
    assert _git(repo, "rev-parse", "--abbrev-ref", "HEAD").strip() == "main"
    assert _git(repo, "branch", "--format=%(refname:short)").split() == ["main"]
    auto = _git(repo, "log", "-1", "--format=%B")
    assert auto.startswith(
        f"Demote {AGENT} from assist to shadow in dev\n\n"
        "1 out-of-scope action request(s) within the window\n"
    )
    assert "does not wait\nfor a review, because safety must not" in auto
    assert "Requested-By: nightshift" in auto and f"Audit-Record: {demoted['seq']}\n" in auto
    assert "Nightshift-Phase-Change: assist -> shadow" in auto and "Gate: none" in auto
    assert f"commit {_git(repo, 'rev-parse', 'HEAD').strip()} on branch main" in committed[
        "record"]["reason"]  # fmt: skip
    assert f"vault/policies/dev/{AGENT}.hcl" in _git(repo, "show", "--name-only", "HEAD")
    assert "# ---- policy: nightshift-phase-shadow\n" in (
        repo / f"vault/policies/dev/{AGENT}.hcl").read_text()  # fmt: skip
    assert AGENT not in _rendered(repo, "assist") and set(_rendered(repo, "assist")) == {
        "other-bot"}  # fmt: skip
    shadow_entry = _rendered(repo, "shadow")[AGENT]
    assert isinstance(shadow_entry, dict) and shadow_entry["phase"] == "shadow"
    assert _git(repo, "status", "--porcelain") == ""
    assert _audit(cli, "demotion-git-refused") == []
    # Git already declares the demotion: demoting by hand has nothing left to do, and
    # going up with demote (or down with promote) is a usage error.
    cli.lead("demote", AGENT, "--to", "shadow", "--env", "dev", "--git", str(repo),
             "--reason", "x", expect=2)  # fmt: skip
    cli.lead("demote", AGENT, "--to", "limited-remediation", "--env", "dev", "--git", str(repo),
             "--reason", "x", expect=2)  # fmt: skip
