"""`helm install` into a real 1.36 API server: the control plane's objects are accepted,
the agents' admission policy is live, and promotion is a `helm upgrade` to the next file.

The values come from `nightshift k8s render --values` (the same compiler the
checked-in files are verified against) for an agents namespace of this test's own.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.integration.deploy.conftest import CHART, Tool

RELEASE, RELEASE_NS, AGENTS_NS = "ns-test", "nightshift-install", "nightshift-agents-helm"
AGENTS = CHART / "agents.example.yaml"


def _values(tmp_path: Path, phase: str) -> Path:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "nightshift",
            "k8s",
            "render",
            "--values",
            "--agents",
            str(AGENTS),
            "--namespace",
            AGENTS_NS,
            "--environment",
            "staging",
            "--phase",
            phase,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    path = tmp_path / f"values-staging-{phase}.yaml"
    path.write_text(out.stdout)
    return path


def _get(kubectl: Tool, *args: str) -> dict[str, Any]:
    return json.loads(kubectl.run("get", *args, "-o", "json").stdout)  # type: ignore[no-any-return]


def _create_sa(kubectl: Tool, name: str, annotated: bool) -> subprocess.CompletedProcess[str]:
    meta: dict[str, Any] = {"name": name, "namespace": AGENTS_NS}
    if annotated:
        meta["annotations"] = {"nightshift.io/owner": "alice"}
        meta["labels"] = {"nightshift.io/authority-class": "supervised"}
    doc = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta}
    return kubectl.run("create", "-f", "-", stdin=json.dumps(doc), check=False)


def _refused_until_policy_is_live(kubectl: Tool, timeout: float = 60.0) -> str:
    # A new ValidatingAdmissionPolicy becomes effective once the API server's
    # informer has compiled it; until then a create may still pass.
    deadline = time.monotonic() + timeout
    n = 0
    while time.monotonic() < deadline:
        n += 1
        out = _create_sa(kubectl, f"ownerless-{n}", annotated=False)
        if out.returncode != 0:
            return out.stderr
        kubectl.run("delete", "serviceaccount", "-n", AGENTS_NS, f"ownerless-{n}")
        time.sleep(0.5)
    pytest.fail("the ownership admission policy never refused an ownerless ServiceAccount")


def _install(values: Path) -> tuple[str, ...]:
    return (
        "upgrade",
        "--install",
        RELEASE,
        str(CHART),
        "-n",
        RELEASE_NS,
        "-f",
        str(values),
        "--wait",
        "--timeout",
        "180s",
    )


@pytest.fixture(scope="module")
def installed(
    cluster_helm: Tool, kubectl: Tool, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("helm-values")
    files = {p: _values(tmp, p) for p in ("shadow", "limited-remediation")}
    kubectl.run("create", "namespace", RELEASE_NS, check=False)
    kubectl.run(
        "create",
        "secret",
        "generic",
        "nightshift-database",
        "-n",
        RELEASE_NS,
        "--from-literal=url=sqlite:////var/lib/nightshift/n.db",
        check=False,
    )
    # The agents' Roles land in the namespaces they govern ("shop"): missing, the
    # install fails, and re-running it once the namespace exists repairs it.
    failed = cluster_helm.run(*_install(files["shadow"]), check=False)
    assert failed.returncode != 0 and 'namespaces "shop" not found' in failed.stderr
    kubectl.run("create", "namespace", "shop")
    started = time.monotonic()
    cluster_helm.run(*_install(files["shadow"]))
    # API-side only: KWOK plays the kubelet, so "ready" means the Deployment's
    # pods were scheduled and reported Ready, not that the image ran.
    print(
        f"helm install -> ready control plane (API-side, KWOK): {time.monotonic() - started:.1f}s"
    )
    return files


def test_install_creates_the_control_plane_and_its_least_privilege_rbac(
    installed: dict[str, Path], kubectl: Tool
) -> None:
    deploy = _get(kubectl, "deployment", "-n", RELEASE_NS, f"{RELEASE}-nightshift")
    assert deploy["status"].get("readyReplicas") == deploy["spec"]["replicas"]
    pod = deploy["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["containers"][0]["securityContext"]["readOnlyRootFilesystem"] is True
    role = _get(kubectl, "role", "-n", AGENTS_NS, f"{RELEASE}-nightshift")
    resources = {r for rule in role["rules"] for r in rule["resources"]}
    assert {"jobs", "secrets"} <= resources
    assert "*" not in {v for rule in role["rules"] for v in rule["verbs"]}
    _get(kubectl, "poddisruptionbudget", "-n", RELEASE_NS, f"{RELEASE}-nightshift")
    _get(kubectl, "service", "-n", RELEASE_NS, f"{RELEASE}-nightshift")


def test_shadow_agents_get_read_only_cluster_roles(
    installed: dict[str, Path], kubectl: Tool
) -> None:
    roles = _get(kubectl, "clusterrole", "-l", "nightshift.io/agent")
    verbs = {
        v for role in roles["items"] for rule in role.get("rules") or [] for v in rule["verbs"]
    }
    assert roles["items"] and verbs <= {"get", "list", "watch"}, verbs


def test_the_installed_admission_policy_refuses_an_agent_account_without_an_owner(
    installed: dict[str, Path], kubectl: Tool
) -> None:
    stderr = _refused_until_policy_is_live(kubectl)
    assert "nightshift-agent-serviceaccount-ownership" in stderr and "nightshift.io/owner" in stderr
    ok = _create_sa(kubectl, "owned-agent", annotated=True)
    assert ok.returncode == 0, ok.stderr


def test_promotion_is_a_helm_upgrade_to_the_next_phase_file(
    installed: dict[str, Path], cluster_helm: Tool, kubectl: Tool
) -> None:
    cluster_helm.run(
        "upgrade",
        RELEASE,
        str(CHART),
        "-n",
        RELEASE_NS,
        "-f",
        str(installed["limited-remediation"]),
        "--wait",
        "--timeout",
        "180s",
    )
    names = {
        r["metadata"]["name"]
        for r in _get(kubectl, "clusterrole", "-l", "nightshift.io/agent")["items"]
    }
    assert any(n.endswith("-limited-remediation") for n in names), names
    assert not any(n.endswith("-shadow") for n in names), names
    writes = {
        v
        for kind in ("role", "clusterrole")
        for r in _get(kubectl, kind, "-A", "-l", "nightshift.io/agent")["items"]
        for rule in r.get("rules") or []
        for v in rule["verbs"]
    }
    assert {"patch", "delete"} & writes, writes
