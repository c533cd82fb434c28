"""Agents' changes keep Git authoritative, on the real API server and a real Git
repository: the same approved scale in each mode (live, git, live+git)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml
from typer.testing import CliRunner

from nightshift.cli.k8s import register
from nightshift.domain.actions import ActionCatalog
from nightshift.domain.agent_codec import identity_to
from nightshift.domain.diagnosis import ResourceRef
from nightshift.gitops.controllers import synced_paths
from nightshift.gitops.declared import declared_objects
from nightshift.gitops.drift import git_drift
from nightshift.gitops.modes import Mode, ModeTable
from nightshift.gitops.record import GitRecorder
from nightshift.gitops.working_copy import WorkingCopy
from nightshift.k8s.apply import apply_objects
from nightshift.k8s.client import KubeApi, resource_path
from nightshift.k8s.manifests import RenderConfig, render_all
from nightshift.runtime.remediation.fake import FakeChangeHistory
from nightshift.runtime.remediation.gitops import GitOpsRemediator
from nightshift.runtime.remediation.live_read import cluster_lister, live_reader
from nightshift.services.remediation_port import RemediationJob
from tests.integration.k8s.cluster import ControlPlane
from tests.integration.k8s.conftest import AGENTS, AGENTS_NS, APP_NS, LIMITED, ensure_namespace
from tests.integration.k8s.test_governance import remediator
from tests.integration.k8s.test_revert_change import (  # the revert's staged world
    PATH,
    _egress,
    _fix,
    _job,
    _policy,
    changed,  # noqa: F401 - a fixture, used by name
)
from tests.integration.k8s.waiting import wait_until

pytestmark = pytest.mark.slow


def _deployment(name: str, replicas: int) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": APP_NS},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "app", "image": f"{name}:1"}]},
            },
        },
    }


def _git(cwd: Path, *args: str) -> str:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(cwd), "GIT_CONFIG_NOSYSTEM": "1",
           "GIT_AUTHOR_NAME": "Ada", "GIT_AUTHOR_EMAIL": "ada@example.org",
           "GIT_COMMITTER_NAME": "Ada", "GIT_COMMITTER_EMAIL": "ada@example.org"}  # fmt: skip
    return subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True
    ).stdout


def _declared(tmp: Path, name: str) -> WorkingCopy:
    root = tmp / "gitops"
    root.mkdir()
    _git(root, "init", "--quiet", "--initial-branch=main")
    (root / f"{name}.yaml").write_text(yaml.safe_dump(_deployment(name, 1), sort_keys=False))
    _git(root, "add", ".")
    _git(root, "commit", "--quiet", "-m", "declared by the platform team")
    return WorkingCopy(root)


def _live_replicas(admin: KubeApi, name: str) -> int:
    got = admin.get(resource_path("apps/v1", "deployments", APP_NS, name))
    return int(got["spec"]["replicas"])


def _git_replicas(copy: WorkingCopy, name: str) -> int:
    return int(yaml.safe_load((copy.root / f"{name}.yaml").read_text())["spec"]["replicas"])


@pytest.mark.parametrize("mode", [Mode.LIVE, Mode.GIT, Mode.LIVE_GIT])
def test_an_approved_scale_in_each_mode(governed: KubeApi, tmp_path: Path, mode: Mode) -> None:
    name = f"ledger-{mode.value.replace('+', '-')}"
    governed.apply(
        resource_path("apps/v1", "deployments", APP_NS, name),
        _deployment(name, 1),
        field_manager="argocd-controller",
    )
    copy = _declared(tmp_path, name)
    fix = GitOpsRemediator(
        remediator(governed),
        GitRecorder(copy),
        ModeTable("production", {"*": mode}),
        live_reader(governed),
    )
    job = RemediationJob(
        "inv-gitops-1",
        "scale-deployment",
        ResourceRef("Deployment", name, APP_NS),
        {"agent": LIMITED.name, "replicas": 3},
        agent=LIMITED.name,
        owner="alice",
        approved_by="grace",
        decision="require_approval (approval_required)",
        proposal_id="p-1",
    )
    assert fix.dry_run(job).ok
    done = fix.execute(job)
    assert done.ok, done.message
    log = _git(copy.root, "log", "--format=%B")
    if mode is Mode.LIVE:
        assert (_live_replicas(governed, name), _git_replicas(copy, name)) == (3, 1)
        assert "live only: mode live" in done.message
        assert "Nightshift-Investigation" not in log
        return
    assert "Nightshift-Investigation: inv-gitops-1" in log and "Approved-By: grace" in log
    assert _git_replicas(copy, name) == 3
    if mode is Mode.GIT:
        assert _live_replicas(governed, name) == 1  # nothing ran live ...
        committed = yaml.safe_load((copy.root / f"{name}.yaml").read_text())
        path = resource_path("apps/v1", "deployments", APP_NS, name)
        governed.apply(path, committed, field_manager="argocd-controller")  # ... until synced
    assert _live_replicas(governed, name) == 3
    if mode is Mode.LIVE_GIT:  # Git and the cluster agree again
        drift = git_drift(copy, lambda key: governed.get(resource_path(
            "apps/v1", "deployments", key.namespace, key.name)))  # fmt: skip
        assert drift == [], [str(d) for d in drift]
    back = fix.rollback(job, "scale-deployment", done.undo)
    assert back.ok, back.message
    assert _git_replicas(copy, name) == 1


def test_drift_names_its_author_nightshift_without_a_commit_and_a_human_edit(
    control_plane: ControlPlane, governed: KubeApi, tmp_path: Path
) -> None:
    name = "basket"
    path = resource_path("apps/v1", "deployments", APP_NS, name)
    governed.apply(path, _deployment(name, 1), field_manager="argocd-controller")
    copy = _declared(tmp_path, name)
    live_only = GitOpsRemediator(
        remediator(governed), GitRecorder(copy), ModeTable("dev"), live_reader(governed)
    )
    scale = RemediationJob(
        "inv-drift-1", "scale-deployment", ResourceRef("Deployment", name, APP_NS),
        {"agent": LIMITED.name, "replicas": 4}, agent=LIMITED.name,
    )  # fmt: skip
    assert live_only.execute(scale).ok
    edited = {  # a human, out of band: only the field they change
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": APP_NS},
        "spec": {
            "template": {"spec": {"containers": [{"name": "app", "image": "basket:2-hotfix"}]}}
        },
    }
    governed.apply(path, edited, field_manager="kubectl-edit")

    agents = tmp_path / "agents.yaml"
    agents.write_text(yaml.safe_dump({"agents": [identity_to(a) for a in AGENTS]}))
    app = typer.Typer()
    register(app)
    drift = CliRunner().invoke(app, [
        "k8s", "drift", "--agents", str(agents), "--namespace", AGENTS_NS,
        "--kubeconfig", str(control_plane.kubeconfig), "--git", str(copy.root),
    ])  # fmt: skip
    assert drift.exit_code == 1, drift.output
    lines = drift.output.splitlines()
    replicas = next(line for line in lines if "spec.replicas" in line)
    assert replicas.startswith(f"[nightshift] {APP_NS}/Deployment/{name} spec.replicas")
    assert "git=1 live=4" in replicas and "NO COMMIT: escalate" in replicas
    image = next(line for line in lines if "containers[0].image" in line)
    assert image.startswith(f"[drift] {APP_NS}/Deployment/{name}")
    assert "changed by field manager kubectl-edit" in image
    assert "1 change(s) by Nightshift are not in Git" in drift.output


def _crd(group: str, version: str, kind: str, plural: str) -> dict[str, Any]:
    """The controller's CRD as far as Nightshift reads it (its spec is kept whole)."""
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{group}"},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {"kind": kind, "plural": plural, "singular": kind.lower()},
            "versions": [{
                "name": version, "served": True, "storage": True,
                "schema": {"openAPIV3Schema": {
                    "type": "object", "x-kubernetes-preserve-unknown-fields": True}},
            }],
        },
    }  # fmt: skip


def _established(crd: dict[str, Any]) -> bool:
    conditions = (crd.get("status") or {}).get("conditions") or []
    return any(c["type"] == "Established" and c["status"] == "True" for c in conditions)


def test_only_what_argo_cd_and_flux_sync_is_declared(governed: KubeApi, tmp_path: Path) -> None:
    crds = resource_path("apiextensions.k8s.io/v1", "customresourcedefinitions")
    for crd in (
        _crd("argoproj.io", "v1alpha1", "Application", "applications"),
        _crd("kustomize.toolkit.fluxcd.io", "v1", "Kustomization", "kustomizations"),
    ):
        governed.apply(f"{crds}/{crd['metadata']['name']}", crd, field_manager="test")
    for name in ("applications.argoproj.io", "kustomizations.kustomize.toolkit.fluxcd.io"):
        wait_until(governed, crds, name, _established)
    ensure_namespace(governed, "argocd")
    governed.apply(
        resource_path("argoproj.io/v1alpha1", "applications", "argocd", "shop"),
        {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
         "metadata": {"name": "shop", "namespace": "argocd"},
         "spec": {"source": {"repoURL": "https://git.example/platform/gitops.git",
                             "path": "apps/shop"},
                  "destination": {"namespace": APP_NS}}},
        field_manager="test",
    )  # fmt: skip
    governed.apply(
        resource_path("kustomize.toolkit.fluxcd.io/v1", "kustomizations", "argocd", "data"),
        {"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
         "metadata": {"name": "data", "namespace": "argocd"},
         "spec": {"path": "./infra/data", "targetNamespace": "data",
                  "sourceRef": {"kind": "GitRepository", "name": "gitops"}}},
        field_manager="test",
    )  # fmt: skip
    root = tmp_path / "gitops"
    for folder, name in (("apps/shop", "cart"), ("infra/data", "pgbouncer"), ("old", "legacy")):
        (root / folder).mkdir(parents=True)
        body = _deployment(name, 1)
        del body["metadata"]["namespace"]  # the controller's destination applies
        (root / folder / f"{name}.yaml").write_text(yaml.safe_dump(body))
    synced = synced_paths(cluster_lister(governed), "https://git.example/platform/gitops")
    assert {p.controller for p in synced} == {
        "argocd Application argocd/shop",
        "flux Kustomization argocd/data",
    }
    declared = declared_objects(root, synced)
    assert {str(k) for k in declared} == {"shop/Deployment/cart", "data/Deployment/pgbouncer"}


@pytest.fixture
def reverting(
    changed: tuple[KubeApi, dict[str, Any], FakeChangeHistory],  # noqa: F811 - the fixture
    catalog: ActionCatalog,
    render_cfg: RenderConfig,
) -> Iterator[tuple[KubeApi, dict[str, Any], FakeChangeHistory]]:
    """The revert's world; afterwards the governed agents' objects are put back (the
    reverter's RBAC rewrote the shared agents ConfigMap)."""
    yield changed
    failed = [r for r in apply_objects(changed[0], render_all(AGENTS, catalog, render_cfg))
              if r.error]  # fmt: skip
    assert not failed, failed


@pytest.mark.parametrize("mode", [Mode.LIVE, Mode.GIT, Mode.LIVE_GIT])
def test_the_2_am_revert_of_a_network_policy_in_each_mode(
    reverting: tuple[KubeApi, dict[str, Any], FakeChangeHistory],
    tmp_path: Path,
    mode: Mode,
) -> None:
    admin, before, history = reverting
    root = tmp_path / "gitops"
    root.mkdir()
    _git(root, "init", "--quiet", "--initial-branch=main")
    # Git holds the policy as the firewall change left it (the change went through Git too).
    (root / "api-egress.yaml").write_text(yaml.safe_dump(_policy(_egress("db"))))
    _git(root, "add", ".")
    _git(root, "commit", "--quiet", "-m", "firewall sync FW-77")
    copy = WorkingCopy(root)
    fix = GitOpsRemediator(
        _fix(admin, history), GitRecorder(copy), ModeTable("production", {"*": mode}),
        live_reader(admin), history=history,
    )  # fmt: skip
    job = replace(_job("reverter", ResourceRef("Change", "FW-77")), approved_by="grace")
    done = fix.execute(job)
    assert done.ok, done.message
    declared = yaml.safe_load((root / "api-egress.yaml").read_text())
    live = admin.get(PATH)

    def drift() -> list[str]:
        found = git_drift(copy, lambda key: admin.get(PATH))
        return [str(d) for d in found]

    if mode is Mode.LIVE:
        assert live["spec"] == before["spec"]
        assert declared["spec"]["egress"] == _egress("db")  # Git not updated
        assert any(line.startswith("[nightshift]") and "NO COMMIT" in line for line in drift())
    elif mode is Mode.GIT:
        assert live["spec"]["egress"] == _egress("db", served=True)  # nothing live yet
        assert declared["spec"] == before["spec"]
        admin.apply(PATH, declared, field_manager="argocd-controller")  # the controller syncs
        assert admin.get(PATH)["spec"] == before["spec"]
    else:
        assert live["spec"] == before["spec"] and declared["spec"] == before["spec"]
        assert drift() == []
