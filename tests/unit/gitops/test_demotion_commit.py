"""The automatic demotion's commit (runtime.demotion_git) on a real Git working copy:
on the current branch, the agent moved to the lower phase's values file, saying it
was applied live without review; refused, with the reason, when the working copy or
Git's declared phase says otherwise."""

from __future__ import annotations

import re
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from nightshift.domain.actions import load_action_catalog
from nightshift.domain.agent_codec import identity_from
from nightshift.domain.vocabulary import TrustPhase
from nightshift.gitops.working_copy import GitOpsRefused
from nightshift.k8s.helm_values import phase_values
from nightshift.k8s.manifests import RenderConfig
from nightshift.runtime.demotion_git import GitDemotionRecorder
from nightshift.services.ports import AgentRecords, AppliedDemotion
from tests.support.control_plane import World

OWNER = {"id": "oncall", "name": "oncall", "kind": "human", "contact": "oncall@example.org"}
WHY = "1 out-of-scope action request(s) within the window"


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True
    ).stdout


def _agent(name: str, phase: str) -> dict[str, object]:
    return {"name": name, "owner": OWNER, "authority_class": "supervised", "phase": phase,
            "boundaries": {"namespaces": ["shop"], "domains": ["kubernetes"]}}  # fmt: skip


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """dev's assist file declares bot and peer; shadow declares quiet."""
    root, chart = tmp_path / "gitops", tmp_path / "gitops" / "chart"
    chart.mkdir(parents=True)
    catalog = load_action_catalog()
    for phase, names in (("assist", ("bot", "peer")), ("shadow", ("quiet",))):
        ids = [identity_from(_agent(n, phase)) for n in names]
        doc = phase_values("dev", TrustPhase(phase), ids, catalog, RenderConfig())
        (chart / f"values-dev-{phase}.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    _git(root, "init", "--quiet", "-b", "main")
    _git(root, "add", ".")
    _git(root, "-c", "user.name=t", "-c", "user.email=t@x", "commit", "--quiet", "-m", "init")
    return root


def _rendered(repo: Path, phase: str) -> set[str]:
    doc = yaml.safe_load((repo / f"chart/values-dev-{phase}.yaml").read_text())
    return set(doc["agents"]["rendered"])


def _demotion(frm: str = "assist") -> AppliedDemotion:
    return AppliedDemotion("bot", frm, "shadow", WHY, 42)


def test_the_demotion_is_one_commit_on_the_current_branch(repo: Path) -> None:
    recorder = GitDemotionRecorder(repo, "dev", load_action_catalog())
    done = recorder.record_demotion(_demotion())
    assert done.startswith("commit ") and " on branch main: Demote bot from assist" in done
    assert _git(repo, "rev-list", "--count", "HEAD").strip() == "2"
    assert _git(repo, "branch", "--format=%(refname:short)").split() == ["main"]
    msg = _git(repo, "log", "-1", "--format=%B")
    assert msg.startswith(f"Demote bot from assist to shadow in dev\n\n{WHY}\n")
    assert "does not wait\nfor a review, because safety must not" in msg
    assert "Requested-By: nightshift" in msg and "Audit-Record: 42" in msg
    assert "Nightshift-Phase-Change: assist -> shadow" in msg and "Gate: none" in msg
    assert (_rendered(repo, "assist"), _rendered(repo, "shadow")) == ({"peer"}, {"quiet", "bot"})
    assert _git(repo, "status", "--porcelain") == ""


def test_a_given_values_dir_is_used(repo: Path) -> None:
    (repo / "other").mkdir()
    (repo / "other" / "values-dev-shadow.yaml").write_text("agents: {rendered: {}}\n")
    _git(repo, "add", ".")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@x", "commit", "--quiet", "-m", "other")
    found = GitDemotionRecorder(repo, "dev", load_action_catalog())
    with pytest.raises(GitOpsRefused, match="several directories"):
        found.record_demotion(_demotion())
    given = GitDemotionRecorder(repo, "dev", load_action_catalog(), Path("chart"))
    assert "Demote bot" in given.record_demotion(_demotion())


@pytest.mark.parametrize(
    ("spoil", "why"),
    [
        ("dirty", "uncommitted changes"),
        ("declared", "Git declares bot at assist in dev but the control plane has it at"),
        ("missing", "no values-dev-<phase>.yaml in chart declares agent bot"),
    ],
)
def test_a_commit_git_cannot_take_is_refused_with_the_reason_and_nothing_written(
    repo: Path, spoil: str, why: str
) -> None:
    demotion = _demotion()
    if spoil == "dirty":
        shadow = repo / "chart/values-dev-shadow.yaml"
        shadow.write_text(shadow.read_text() + "# unfinished edit\n")
    elif spoil == "declared":
        demotion = _demotion("limited-remediation")  # the cluster had it higher than Git
    else:
        demotion = AppliedDemotion("ghost", "assist", "shadow", WHY, 42)
        why = why.replace("bot", "ghost")
    head = _git(repo, "rev-parse", "HEAD")
    with pytest.raises(GitOpsRefused, match=re.escape(why)):
        GitDemotionRecorder(repo, "dev", load_action_catalog()).record_demotion(demotion)
    assert _git(repo, "rev-parse", "HEAD") == head
    assert "bot" in _rendered(repo, "assist")


def test_a_demotion_by_hand_can_go_on_a_review_branch_and_the_checkout_stays(repo: Path) -> None:
    """What ``nightshift demote --branch`` does when the automatic commit was refused."""
    from nightshift.gitops.promotion import PhaseCommit, PhaseWriter
    from nightshift.gitops.working_copy import WorkingCopy

    writer = PhaseWriter(WorkingCopy(repo), repo / "chart", load_action_catalog())
    pc = PhaseCommit("bot", "demotion", "assist", "shadow", "dev", [], [], "lead", 7, "wrong")
    recorded = writer.write(pc, "demote-bot")
    assert recorded.branch == "demote-bot" and "git push origin demote-bot" in recorded.review
    assert _git(repo, "rev-parse", "--abbrev-ref", "HEAD").strip() == "main"
    assert "bot" in _rendered(repo, "assist")  # main unchanged
    msg = _git(repo, "log", "-1", "--format=%B", "demote-bot")
    assert msg.startswith("Demote bot from assist to shadow in dev\n\nwrong\n")
    assert "safety must not" not in msg and "Requested-By: lead" in msg


def test_a_repository_with_no_phase_files_for_the_environment_is_left_alone(
    repo: Path,
) -> None:
    head = _git(repo, "rev-parse", "HEAD")
    staging = GitDemotionRecorder(repo, "staging", load_action_catalog())
    assert staging.record_demotion(_demotion()) == ""
    assert _git(repo, "rev-parse", "HEAD") == head
    # Named explicitly, the directory must declare the agent: refused, not skipped.
    named = GitDemotionRecorder(repo, "staging", load_action_catalog(), Path("chart"))
    with pytest.raises(GitOpsRefused, match=re.escape("no values-staging-<phase>.yaml in chart")):
        named.record_demotion(_demotion())


def test_a_dirty_working_copy_holds_back_only_git_not_the_live_demotion(
    repo: Path, world: World
) -> None:
    """The control plane's own check_demotions with this recorder on a real copy."""
    from nightshift.services.demo_identities import DEMO_BOUNDARIES
    from tests.unit.governance_api.test_phases_and_gates import Recorded

    source = Recorded()
    phases = world.container.phases
    phases.evidence, phases.git = source, GitDemotionRecorder(repo, "dev", load_action_catalog())
    world.container.agents.register(
        "bot", owner="lead", authority_class="supervised", trust_phase="assist",
        boundaries=DEMO_BOUNDARIES,
    )  # fmt: skip
    source.by_agent["bot"] = AgentRecords(
        out_of_scope_actions=(datetime.now(UTC) - timedelta(minutes=5),)
    )
    shadow = repo / "chart/values-dev-shadow.yaml"
    shadow.write_text(shadow.read_text() + "# unfinished edit\n")
    head = _git(repo, "rev-parse", "HEAD")
    assert phases.check_demotions() == ["bot"]
    assert world.container.stewardship.identity("bot").phase is TrustPhase.SHADOW
    assert _git(repo, "rev-parse", "HEAD") == head
    assert shadow.read_text().endswith("# unfinished edit\n")  # someone's edit untouched
    (esc,) = world.container.escalations.list(agent="bot")
    assert esc.kind == "gitops_divergence"
    assert "Git and the cluster disagree" in esc.summary
    assert "the working copy has uncommitted changes" in esc.summary
