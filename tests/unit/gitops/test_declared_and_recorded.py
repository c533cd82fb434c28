"""What Git declares, and the commit that records an agent's change to it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from nightshift.gitops.declared import ObjectKey, declared_objects
from nightshift.gitops.record import CommitContext, GitRecorder
from nightshift.gitops.working_copy import GitOpsRefused, WorkingCopy
from tests.unit.gitops.conftest import git

POLICY = ObjectKey("networking.k8s.io", "NetworkPolicy", "shop", "checkout-egress")
CHECKOUT = ObjectKey("apps", "Deployment", "shop", "checkout")
CTX = CommitContext(
    investigation_id="01a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6",
    agent="night-triage",
    owner="ada",
    approver="grace",
    decision="allow (approved by grace)",
    audit_record="812",
    action="scale-deployment",
    reason="checkout needs headroom",
)


def test_plain_manifests_and_kustomize_namespaces_are_indexed(repo: WorkingCopy) -> None:
    found = declared_objects(repo.root)
    assert set(found) == {
        CHECKOUT,
        POLICY,
        ObjectKey("apps", "Deployment", "data", "pgbouncer"),  # namespace from kustomization
    }
    assert found[POLICY].file == repo.root / "shop" / "checkout.yaml"
    assert found[POLICY].document == 1


def test_an_object_declared_twice_is_refused(repo: WorkingCopy) -> None:
    (repo.root / "copy.yaml").write_text((repo.root / "shop" / "checkout.yaml").read_text())
    with pytest.raises(GitOpsRefused, match="declared twice"):
        declared_objects(repo.root)


def test_a_file_that_cannot_be_parsed_is_refused(repo: WorkingCopy) -> None:
    (repo.root / "broken.yaml").write_text("kind: [unclosed\n")
    with pytest.raises(GitOpsRefused, match=r"broken\.yaml cannot be parsed"):
        declared_objects(repo.root)


def test_the_commit_changes_only_the_field_and_names_who_is_accountable(
    repo: WorkingCopy,
) -> None:
    recorded = GitRecorder(repo).record(
        CTX, CHECKOUT, {("spec", "replicas"): 4}, "scaled from 2 to 4 replicas"
    )
    diff = git(repo.root, "show", "--format=", recorded.commit.sha)
    changed = [
        line for line in diff.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")
    ]
    assert changed == [
        "-  replicas: 2   # two is enough at night",
        "+  replicas: 4   # two is enough at night",
    ]
    body = git(repo.root, "log", "-1", "--format=%B")
    for trailer in (
        "Nightshift-Investigation: 01a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6",
        "Nightshift-Agent: night-triage",
        "Nightshift-Owner: ada",
        "Approved-By: grace",
        "Policy-Decision: allow (approved by grace)",
        "Audit-Record: 812",
    ):
        assert trailer in body.splitlines()
    docs = list(yaml.safe_load_all((repo.root / "shop" / "checkout.yaml").read_text()))
    assert docs[1]["spec"]["egress"][0]["to"][0]["podSelector"]["matchLabels"] == {
        "app": "risk-scoring"
    }
    assert "open a pull request" in recorded.review and recorded.commit.sha in recorded.review


def test_a_whole_spec_is_replaced_for_a_revert(repo: WorkingCopy) -> None:
    before = {"podSelector": {"matchLabels": {"app": "checkout"}}, "policyTypes": ["Egress"],
              "egress": [{}]}  # fmt: skip
    GitRecorder(repo).record(CTX, POLICY, {("spec",): before}, "revert")
    docs = list(yaml.safe_load_all((repo.root / "shop" / "checkout.yaml").read_text()))
    assert docs[1]["spec"] == before
    assert docs[0]["spec"]["replicas"] == 2


def test_a_dirty_working_copy_is_refused_and_left_alone(repo: WorkingCopy) -> None:
    path = repo.root / "shop" / "checkout.yaml"
    path.write_text(path.read_text() + "# someone's unfinished edit\n")
    with pytest.raises(GitOpsRefused, match="uncommitted changes"):
        GitRecorder(repo).record(CTX, CHECKOUT, {("spec", "replicas"): 4}, "scale")
    assert path.read_text().endswith("# someone's unfinished edit\n")


def test_a_branch_behind_its_upstream_is_refused(repo: WorkingCopy, tmp_path: Path) -> None:
    other = tmp_path / "other"
    git(tmp_path, "clone", "--quiet", str(tmp_path / "origin.git"), str(other))
    (other / "README.md").write_text("someone else pushed\n")
    git(other, "add", "README.md")
    git(other, "commit", "--quiet", "-m", "docs")
    git(other, "push", "--quiet")
    git(repo.root, "fetch", "--quiet")
    with pytest.raises(GitOpsRefused, match="behind origin/main"):
        GitRecorder(repo).record(CTX, CHECKOUT, {("spec", "replicas"): 4}, "scale")


def test_an_object_git_does_not_declare_is_refused(repo: WorkingCopy) -> None:
    with pytest.raises(GitOpsRefused, match="not declared"):
        GitRecorder(repo).record(
            CTX, ObjectKey("apps", "Deployment", "shop", "ghost"), {("spec", "replicas"): 1}, "x"
        )


def test_what_git_already_says_is_not_committed_again(repo: WorkingCopy) -> None:
    with pytest.raises(GitOpsRefused, match="nothing to commit"):
        GitRecorder(repo).record(CTX, CHECKOUT, {("spec", "replicas"): 2}, "scale")


def test_rollback_reverts_the_recorded_commit(repo: WorkingCopy) -> None:
    recorder = GitRecorder(repo)
    recorder.record(CTX, CHECKOUT, {("spec", "replicas"): 4}, "scaled")
    revert = recorder.revert(CTX)
    assert revert.subject.startswith("Revert scale-deployment shop/Deployment/checkout")
    docs = list(yaml.safe_load_all((repo.root / "shop" / "checkout.yaml").read_text()))
    assert docs[0]["spec"]["replicas"] == 2
