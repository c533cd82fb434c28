"""An automatic demotion is applied live first and then handed to Git (the
``DemotionGit`` port, a fake here); Git refusing it never undoes or holds the live
demotion, and it escalates: Git and the cluster disagree."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from nightshift.domain.vocabulary import TrustPhase
from nightshift.runtime.demotion_git_fake import FakeDemotionGit
from nightshift.services.ports import AgentRecords, AppliedDemotion
from tests.support.control_plane import World
from tests.unit.governance_api.test_phases_and_gates import Recorded, _register

NOW = datetime.now(UTC)
STRAY = AgentRecords(out_of_scope_actions=(NOW - timedelta(hours=1),))


def _demoting(world: World, git: FakeDemotionGit, *names: str) -> list[str]:
    source = Recorded()
    world.container.phases.evidence = source
    world.container.phases.git = git
    for name in names:
        _register(world, name, "autonomous", "limited-remediation")
        source.by_agent[name] = STRAY
    return world.container.phases.check_demotions(NOW)


def _decisions(world: World, decision: str) -> list[int]:
    return [r.seq for r in world.container.audit.recent(500) if r.entry.decision == decision]


def test_an_automatic_demotion_asks_git_for_one_commit_naming_the_live_demotion(
    world: World,
) -> None:
    git = FakeDemotionGit()
    assert _demoting(world, git, "worn") == ["worn"]
    (demoted_seq,) = _decisions(world, "demoted")
    (request,) = git.requests
    assert request == AppliedDemotion(
        agent="worn",
        from_phase="limited-remediation",
        to_phase="assist",
        reason=request.reason,
        audit_seq=demoted_seq,
    )
    assert request.reason == "1 out-of-scope action request(s) within the window"
    history = world.container.phases.history("worn")
    assert history[-1].reason == request.reason  # the findings, as the live demotion says
    # Git's commit is audited after the live demotion, with what was committed.
    (committed,) = [
        r for r in world.container.audit.recent(500) if r.entry.decision == "demotion-committed"
    ]
    assert committed.seq > demoted_seq and committed.entry.reason.startswith("commit fake1 ")
    assert world.container.escalations.list(agent="worn") == []
    # The next reconcile pass demotes nothing and asks Git for nothing more.
    assert world.container.phases.check_demotions(NOW + timedelta(seconds=5)) == []
    assert len(git.requests) == 1


def test_a_refused_commit_leaves_the_demotion_live_and_escalates_the_disagreement(
    world: World,
) -> None:
    git = FakeDemotionGit(refuse="the working copy has uncommitted changes (M chart/x.yaml ...)")
    assert sorted(_demoting(world, git, "worn", "stray")) == ["stray", "worn"]
    # Both demotions stand, although Git refused each: one failure stops no other.
    for name in ("worn", "stray"):
        assert world.container.stewardship.identity(name).phase is TrustPhase.ASSIST
        (esc,) = world.container.escalations.list(agent=name)
        assert esc.kind == "gitops_divergence" and esc.status == "open"
        assert esc.summary.startswith(f"Git and the cluster disagree: {name} was demoted live")
        assert "uncommitted changes" in esc.summary and "nightshift demote" in esc.summary
        assert esc.routed_to  # a human hears of it
    assert len(git.requests) == 2
    refused = _decisions(world, "demotion-git-refused")
    assert len(refused) == 2 and not _decisions(world, "demotion-committed")
    assert min(refused) > min(_decisions(world, "demoted"))


def test_a_demotion_to_shadow_that_git_refuses_still_reaches_humans(world: World) -> None:
    """Shadow agents' escalations go nowhere; this one is the control plane's own."""
    source = Recorded()
    world.container.phases.evidence = source
    world.container.phases.git = FakeDemotionGit(refuse="Git declares worn at autonomous-l1")
    _register(world, "worn", "autonomous", "assist")
    source.by_agent["worn"] = STRAY
    assert world.container.phases.check_demotions(NOW) == ["worn"]
    assert world.container.stewardship.identity("worn").phase is TrustPhase.SHADOW
    (esc,) = world.container.escalations.list(agent="worn")
    assert "Git declares worn at autonomous-l1" in esc.summary
    assert esc.payload["demotion"]["to_phase"] == "shadow"


def test_without_a_gitops_working_copy_a_demotion_is_live_only(world: World) -> None:
    source = Recorded()
    world.container.phases.evidence = source
    assert world.container.phases.git is None  # no NIGHTSHIFT_GITOPS_REPO in the world
    _register(world, "worn", "autonomous", "assist")
    source.by_agent["worn"] = STRAY
    assert world.container.phases.check_demotions(NOW) == ["worn"]
    assert not _decisions(world, "demotion-committed") + _decisions(world, "demotion-git-refused")


def test_a_repository_that_keeps_no_phases_is_left_alone(world: World) -> None:
    """A GitOps repository holding only remediated objects: no commit, no false alarm."""
    git = FakeDemotionGit(keeps_phases=False)
    assert _demoting(world, git, "worn") == ["worn"]
    assert len(git.requests) == 1
    assert world.container.escalations.list(agent="worn") == []
    assert not _decisions(world, "demotion-committed") + _decisions(world, "demotion-git-refused")
