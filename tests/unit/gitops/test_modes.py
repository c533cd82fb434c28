"""The GitOps wrapper: per action and environment, the change happens live, as a
commit, or both; Git divergence escalates; rollback reverts the commit too."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import yaml

from nightshift.domain.changes import Change, ChangeKind, ChangeTarget
from nightshift.domain.diagnosis import ResourceRef
from nightshift.domain.vocabulary import Domain
from nightshift.gitops.declared import ObjectKey
from nightshift.gitops.modes import Mode, ModeTable
from nightshift.gitops.record import GitRecorder
from nightshift.gitops.working_copy import WorkingCopy
from nightshift.runtime.remediation.fake import FakeChangeHistory, FakeRemediator
from nightshift.runtime.remediation.gitops import GitOpsRemediator
from nightshift.services.remediation_port import RemediationJob
from tests.unit.gitops.conftest import git

SCALE = RemediationJob(
    investigation_id="01a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6",
    action="scale-deployment",
    target=ResourceRef("Deployment", "checkout", "shop"),
    params={"replicas": 5},
    agent="night-triage",
    owner="ada",
    approved_by="grace",
    decision="require_approval (approval_required)",
    proposal_id="p-42",
)


class Cluster:
    """The live object as the cluster would hold it after the fake remediator ran."""

    def __init__(self) -> None:
        self.replicas = 2

    def read(self, job: RemediationJob, key: ObjectKey) -> Mapping[str, Any] | None:
        return {"spec": {"replicas": self.replicas}}


def _wrapper(
    repo: WorkingCopy,
    modes: ModeTable,
    cluster: Cluster,
    diverged: list[str] | None = None,
    history: FakeChangeHistory | None = None,
) -> tuple[GitOpsRemediator, FakeRemediator]:
    inner = FakeRemediator()
    sink = diverged if diverged is not None else []
    wrapper = GitOpsRemediator(
        inner, GitRecorder(repo), modes, cluster.read, lambda job, why: sink.append(why), history
    )
    return wrapper, inner


def _replicas(repo: WorkingCopy) -> int:
    docs = list(yaml.safe_load_all((repo.root / "shop" / "checkout.yaml").read_text()))
    return int(docs[0]["spec"]["replicas"])


def test_production_defaults_to_live_then_git(repo: WorkingCopy) -> None:
    cluster = Cluster()
    wrapper, inner = _wrapper(repo, ModeTable("production"), cluster)
    cluster.replicas = 5  # what the API server holds after the live scale
    done = wrapper.execute(SCALE)
    assert done.ok, done.message
    assert ("execute", "scale-deployment", "shop/Deployment/checkout") in inner.calls
    assert done.undo["gitops"] == "live+git" and "committed" in done.message
    assert _replicas(repo) == 5
    assert "Approved-By: grace" in git(repo.root, "log", "-1", "--format=%B")


def test_git_mode_commits_and_changes_nothing_live(repo: WorkingCopy) -> None:
    wrapper, inner = _wrapper(repo, ModeTable("production", {"*": Mode.GIT}), Cluster())
    done = wrapper.execute(SCALE)
    assert done.ok, done.message
    assert not [c for c in inner.calls if c[0] == "execute"]
    assert "nothing changed live" in done.message
    assert _replicas(repo) == 5
    assert done.changes and "open a pull request" in done.changes[0]


def test_live_mode_and_undeclared_objects_run_live_only_and_say_so(repo: WorkingCopy) -> None:
    wrapper, _ = _wrapper(repo, ModeTable("dev"), Cluster())
    assert "live only: mode live" in wrapper.execute(SCALE).message
    prod, _ = _wrapper(repo, ModeTable("production"), Cluster())
    ghost = replace(SCALE, target=ResourceRef("Deployment", "ghost", "shop"))
    assert "live only: Git does not declare shop/Deployment/ghost" in prod.execute(ghost).message
    restart = replace(SCALE, action="restart-pod")
    assert "changes no state Git declares" in prod.execute(restart).message
    assert _replicas(repo) == 2


def test_a_refused_commit_keeps_the_live_fix_and_escalates(repo: WorkingCopy) -> None:
    path = repo.root / "shop" / "checkout.yaml"
    path.write_text(path.read_text() + "# unfinished\n")
    cluster = Cluster()
    diverged: list[str] = []
    wrapper, inner = _wrapper(repo, ModeTable("production"), cluster, diverged)
    cluster.replicas = 5
    done = wrapper.execute(SCALE)
    assert done.ok  # the incident comes first
    assert ("execute", "scale-deployment", "shop/Deployment/checkout") in inner.calls
    assert "Git was not updated" in done.message and "uncommitted changes" in done.message
    assert len(diverged) == 1 and "uncommitted changes" in diverged[0]


def test_rollback_reverts_the_commit_as_well_as_the_live_change(repo: WorkingCopy) -> None:
    cluster = Cluster()
    wrapper, inner = _wrapper(repo, ModeTable("production"), cluster)
    cluster.replicas = 5
    done = wrapper.execute(SCALE)
    back = wrapper.rollback(SCALE, "scale-deployment", done.undo)
    assert back.ok, back.message
    assert ("rollback", "scale-deployment", "shop/Deployment/checkout") in inner.calls
    assert "reverted in Git" in back.message
    assert _replicas(repo) == 2


def test_a_crash_between_the_live_change_and_the_commit_is_committed_on_restart(
    repo: WorkingCopy,
) -> None:
    cluster = Cluster()
    wrapper, inner = _wrapper(repo, ModeTable("production"), cluster)
    inner.execute(SCALE)  # the live change ran; the control plane died before the commit
    cluster.replicas = 5
    seen = wrapper.observe(SCALE)
    assert seen.effect == "in_effect"
    assert "committed" in seen.detail
    assert _replicas(repo) == 5
    again = wrapper.observe(SCALE)  # a second restart does not commit twice
    assert "committed" not in again.detail
    assert git(repo.root, "log", "--format=%s").count("scale-deployment") == 1


BEFORE = {"spec": {"podSelector": {"matchLabels": {"app": "checkout"}},
                   "policyTypes": ["Egress"], "egress": [{}]}}  # fmt: skip
FW = Change(
    id="c-1", ref="FW-3141", at=datetime(2026, 12, 2, 2, 0, tzinfo=UTC), actor="firewall-bot",
    summary="tighten checkout egress", kind=ChangeKind.FIREWALL, domain=Domain.NETWORK,
    target=ChangeTarget("NetworkPolicy", "checkout-egress", "shop"), before=BEFORE,
)  # fmt: skip


def test_a_revert_is_committed_on_the_object_the_change_touched_with_its_recorded_state(
    repo: WorkingCopy,
) -> None:
    history = FakeChangeHistory([FW])
    modes = ModeTable("production", {"*": Mode.GIT})
    wrapper, inner = _wrapper(repo, modes, Cluster(), history=history)
    steered = {"before": {"spec": {"podSelector": {}, "egress": [{"to": [{"ipBlock": {
        "cidr": "0.0.0.0/0"}}]}]}}}  # fmt: skip
    job = replace(SCALE, action="revert-change", target=ResourceRef("Change", "FW-3141"),
                  params=steered)  # fmt: skip
    done = wrapper.execute(job)
    assert done.ok, done.message
    assert not [c for c in inner.calls if c[0] == "execute"]
    docs = list(yaml.safe_load_all((repo.root / "shop" / "checkout.yaml").read_text()))
    assert docs[1]["spec"] == BEFORE["spec"]  # the change feed's record, not the params
    assert "revert-change shop/NetworkPolicy/checkout-egress" in git(
        repo.root, "log", "-1", "--format=%s"
    )
