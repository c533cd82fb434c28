"""Helm 4 + kubectl (scripts/helm-test-env) and a real Kubernetes 1.36 API server.

The API server is this directory's own instance of the test control plane
(tests/integration/k8s/cluster.py): the chart installs cluster-scoped admission
policies under their production names, which must not meet the governed
fixture's copies of the same policies. With ``CI`` set a missing helm or
control plane fails the run, never skips it.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.k8s.cluster import ControlPlane, ControlPlaneError, running_control_plane

REPO = Path(__file__).resolve().parents[3]
CHART = REPO / "deploy" / "helm" / "nightshift"


def _unavailable(what: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(what)
    pytest.skip(what)


@pytest.fixture(scope="session")
def helm_bin() -> Path:
    out = subprocess.run(
        [str(REPO / "scripts/helm-test-env")], capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        _unavailable(f"scripts/helm-test-env failed: {out.stderr[-2000:]}")
    return Path(out.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="session")
def chart_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    try:
        with running_control_plane(tmp_path_factory.mktemp("deploy-k8s"), nodes=1) as cp:
            yield cp
    except ControlPlaneError as exc:
        _unavailable(f"Kubernetes control plane did not start: {exc}")


class Tool:
    """Runs helm or kubectl against the test cluster; ``check`` turns a failure into its stderr."""

    def __init__(self, binary: Path, kubeconfig: Path | None) -> None:
        self.binary, self.kubeconfig = binary, kubeconfig

    def run(
        self, *args: str, stdin: str | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "HELM_CACHE_HOME": "/tmp/nightshift-helm-cache"}
        if self.kubeconfig is not None:
            env["KUBECONFIG"] = str(self.kubeconfig)
        out = subprocess.run(
            [str(self.binary), *args],
            input=stdin,
            capture_output=True,
            text=True,
            check=False,
            env=env,
            timeout=300,
        )
        if check and out.returncode != 0:
            raise AssertionError(f"{self.binary.name} {' '.join(args)} failed:\n{out.stderr}")
        return out


@pytest.fixture(scope="session")
def helm(helm_bin: Path) -> Tool:
    return Tool(helm_bin / "helm", None)


@pytest.fixture(scope="session")
def cluster_helm(helm_bin: Path, chart_cluster: ControlPlane) -> Tool:
    return Tool(helm_bin / "helm", chart_cluster.kubeconfig)


@pytest.fixture(scope="session")
def kubectl(helm_bin: Path, chart_cluster: ControlPlane) -> Tool:
    return Tool(helm_bin / "kubectl", chart_cluster.kubeconfig)
