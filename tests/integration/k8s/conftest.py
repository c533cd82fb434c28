"""A real Kubernetes control plane for the whole session (see cluster.py).

Outside CI the suite is skipped with the reason when the control plane cannot be
built or started (no Go toolchain, say); in CI (``CI=true``) that is a failure,
never a silent skip.
"""

from __future__ import annotations

import os
import queue
from collections.abc import Iterator
from pathlib import Path

import pytest

from nightshift.domain.actions import ActionCatalog, load_action_catalog
from nightshift.domain.agents import Boundaries, Principal, register_agent
from nightshift.domain.vocabulary import AuthorityClass, Domain, PrincipalKind, TrustPhase
from nightshift.k8s.apply import apply_objects
from nightshift.k8s.client import KubeApi, KubeError, resource_path
from nightshift.k8s.manifests import RenderConfig, render_all
from nightshift.runtime.executors.protocol import WorkerExit
from tests.integration.k8s.cluster import ControlPlane, ControlPlaneError, running_control_plane

AGENTS_NS = "nightshift-agents"
APP_NS = "shop"
OWNER = Principal("alice", "Alice", PrincipalKind.HUMAN, contact="alice@example.com")


def _boundaries(*actions: str) -> Boundaries:
    return Boundaries(
        namespaces=frozenset({APP_NS}),
        domains=frozenset({Domain.KUBERNETES, Domain.APPLICATION}),
        action_types=frozenset(actions),
    )


ADVISOR = register_agent(
    "advisor",
    OWNER,
    AuthorityClass.ADVISORY,
    phase=TrustPhase.ASSIST,
    boundaries=_boundaries("restart-pod"),
)
SHADOW = register_agent(
    "watcher",
    OWNER,
    AuthorityClass.SUPERVISED,
    phase=TrustPhase.SHADOW,
    boundaries=_boundaries("restart-pod"),
)
LIMITED = register_agent(
    "fixer",
    OWNER,
    AuthorityClass.SUPERVISED,
    phase=TrustPhase.LIMITED_REMEDIATION,
    boundaries=_boundaries("restart-pod", "scale-deployment"),
)
AGENTS = (ADVISOR, SHADOW, LIMITED)


@pytest.fixture(scope="session")
def control_plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    workdir: Path = tmp_path_factory.mktemp("k8s")
    try:
        with running_control_plane(workdir, nodes=2) as cp:
            yield cp
    except ControlPlaneError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"Kubernetes control plane did not start: {exc}")
        pytest.skip(f"Kubernetes control plane unavailable: {exc}")


@pytest.fixture(scope="session")
def admin(control_plane: ControlPlane) -> KubeApi:
    return control_plane.admin()


@pytest.fixture(scope="session")
def catalog() -> ActionCatalog:
    return load_action_catalog()


@pytest.fixture(scope="session")
def render_cfg() -> RenderConfig:
    return RenderConfig(agents_namespace=AGENTS_NS)


@pytest.fixture(scope="session")
def governed(admin: KubeApi, catalog: ActionCatalog, render_cfg: RenderConfig) -> KubeApi:
    """The app namespace plus everything `nightshift k8s apply` installs for AGENTS."""
    ensure_namespace(admin, APP_NS)
    results = apply_objects(admin, render_all(AGENTS, catalog, render_cfg))
    failed = [str(r) for r in results if r.error]
    assert not failed, failed
    return admin


def ensure_namespace(admin: KubeApi, name: str) -> None:
    try:
        admin.create(
            "/api/v1/namespaces",
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}},
        )
    except KubeError as exc:
        if exc.status != 409:
            raise


def make_pod(admin: KubeApi, name: str, namespace: str = APP_NS) -> dict[str, object]:
    return admin.create(
        resource_path("v1", "pods", namespace),
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "labels": {"app": name}},
            "spec": {"containers": [{"name": "app", "image": "shop:1.0"}]},
        },
    )


class Exits:
    """Collects executor exit callbacks; ``next`` waits for one (no sleeps)."""

    def __init__(self) -> None:
        self._q: queue.Queue[WorkerExit] = queue.Queue()
        self.seen: dict[str, WorkerExit] = {}

    def __call__(self, exit_: WorkerExit) -> None:
        self._q.put(exit_)

    def wait_for(self, investigation_id: str, timeout: float = 30.0) -> WorkerExit:
        if investigation_id in self.seen:
            return self.seen[investigation_id]
        while True:
            exit_ = self._q.get(timeout=timeout)
            self.seen[exit_.investigation_id] = exit_
            if exit_.investigation_id == investigation_id:
                return exit_
