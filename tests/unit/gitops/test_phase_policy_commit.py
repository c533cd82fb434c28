"""A phase change commits the values and the agent's Vault policy together: one
commit holds the moved values files and ``vault/policies/<env>/<agent>.hcl`` with
the HCL of every policy the agent's tokens carry at the new phase."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from nightshift.domain.actions import load_action_catalog
from nightshift.domain.agent_codec import identity_from
from nightshift.domain.vocabulary import Domain, TrustPhase
from nightshift.gitops.promotion import PhaseCommit, PhaseWriter
from nightshift.gitops.vault_policy import agent_policy, policy_file
from nightshift.gitops.working_copy import GitOpsRefused, WorkingCopy
from nightshift.k8s.helm_values import phase_values
from nightshift.k8s.manifests import RenderConfig
from nightshift.secrets.policies import VaultLayout, domain_policy, phase_policy

OWNER = {"id": "oncall", "name": "oncall", "kind": "human", "contact": "oncall@example.org"}
GATE = {"name": "sample_size", "value": 40, "comparison": ">=", "threshold": 30, "passed": True}


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True
    ).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """dev's shadow file declares bot (kubernetes, database); its policy file says shadow."""
    root = tmp_path / "gitops"
    (root / "chart").mkdir(parents=True)
    boundaries = {"namespaces": ["shop"], "domains": ["kubernetes", "database"]}
    raw = {"name": "bot", "owner": OWNER, "authority_class": "supervised", "phase": "shadow",
           "boundaries": boundaries}  # fmt: skip
    bot = identity_from(raw)
    doc = phase_values("dev", TrustPhase.SHADOW, [bot], load_action_catalog(), RenderConfig())
    (root / "chart/values-dev-shadow.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    policy = policy_file(root, "dev", "bot")
    policy.parent.mkdir(parents=True)
    policy.write_text(agent_policy(bot, "dev", VaultLayout()))
    _git(root, "init", "--quiet", "-b", "main")
    _git(root, "add", ".")
    _git(root, "-c", "user.name=t", "-c", "user.email=t@x", "commit", "--quiet", "-m", "init")
    return root


def _writer(repo: Path, layout: VaultLayout | None = None) -> PhaseWriter:
    return PhaseWriter(WorkingCopy(repo), repo / "chart", load_action_catalog(), layout)


def _promotion(to: str = "limited-remediation") -> PhaseCommit:
    return PhaseCommit("bot", "promotion", "shadow", to, "dev", [GATE], [], "lead", 9, "earned")


def test_the_promotion_commit_holds_the_values_and_the_new_phase_vault_policy(
    repo: Path,
) -> None:
    layout = VaultLayout(kv_mount="kv", prefix="ns")
    recorded = _writer(repo, layout).write(_promotion(), "promote-bot")
    files = _git(repo, "show", "--name-only", "--format=", "promote-bot").split()
    assert sorted(files) == [
        "chart/values-dev-limited-remediation.yaml", "chart/values-dev-shadow.yaml",
        "vault/policies/dev/bot.hcl"]  # fmt: skip
    assert "vault/policies/dev/bot.hcl" in recorded.review
    hcl = _git(repo, "show", "promote-bot:vault/policies/dev/bot.hcl")
    # Exactly what `nightshift vault policies` prints for the phase and each domain...
    assert phase_policy(TrustPhase.LIMITED_REMEDIATION, layout) in hcl
    assert domain_policy(Domain.KUBERNETES, layout) in hcl
    assert domain_policy(Domain.DATABASE, layout) in hcl
    assert phase_policy(TrustPhase.SHADOW, layout) not in hcl
    assert "carry: nightshift-phase-limited-remediation, nightshift-domain-database, " in hcl
    # ...so the pull request's diff is the grant that changes: remediation denied -> read.
    diff = _git(repo, "diff", "main", "promote-bot", "--", "vault/policies/dev/bot.hcl")
    assert '-path "secret/data/nightshift/remediation/*"' in diff
    assert '+path "kv/data/ns/remediation/*"' in diff
    assert "its Vault policy file for limited-remediation" in _git(
        repo, "log", "-1", "--format=%B", "promote-bot"
    )
    # The checkout is back on main, which still declares shadow in both files.
    assert policy_file(repo, "dev", "bot").read_text().count("nightshift-phase-shadow") == 2


def test_the_policy_file_is_created_when_the_repository_had_none(repo: Path) -> None:
    _git(repo, "rm", "--quiet", "vault/policies/dev/bot.hcl")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@x", "commit", "--quiet", "-m", "rm")
    _writer(repo).write(_promotion("assist"))
    assert "vault/policies/dev/bot.hcl" in _git(repo, "show", "--name-only", "--format=", "HEAD")
    assert "# ---- policy: nightshift-phase-assist\n" in policy_file(repo, "dev", "bot").read_text()
    assert _git(repo, "status", "--porcelain") == ""


def test_a_refused_commit_leaves_no_policy_file_behind(repo: Path) -> None:
    _git(repo, "rm", "--quiet", "vault/policies/dev/bot.hcl")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@x", "commit", "--quiet", "-m", "rm")
    # The repository's own hook refuses the commit, after the files were written.
    hook = repo / ".git/hooks/pre-commit"
    hook.write_text("#!/bin/sh\necho 'needs a ticket number' >&2\nexit 1\n")
    hook.chmod(0o755)
    with pytest.raises(GitOpsRefused, match="needs a ticket number"):
        _writer(repo).write(_promotion("assist"), "promote-bot")
    assert not policy_file(repo, "dev", "bot").exists()
    assert _git(repo, "status", "--porcelain") == ""
    assert _git(repo, "branch", "--format=%(refname:short)").split() == ["main"]
