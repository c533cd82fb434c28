"""A real Kueue manager on its own test control plane (see manager.py).

Its own control plane, because Kueue's admission webhooks then see every Job of that
API server. Outside CI the suite is skipped with the reason when Kueue or the control
plane cannot be built or started; in CI (``CI=true``) that fails, never skips.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from nightshift.domain.actions import load_action_catalog
from nightshift.k8s.apply import apply_objects
from nightshift.k8s.client import KubeApi
from nightshift.k8s.jobs import JobTemplate
from nightshift.k8s.manifests import RenderConfig, render_all
from nightshift.runtime.executors.kubernetes import KubernetesExecutor
from tests.integration.k8s.cluster import ControlPlaneError, running_control_plane
from tests.integration.k8s.conftest import AGENTS, AGENTS_NS, APP_NS, Exits, ensure_namespace
from tests.integration.kueue.manager import KueueManager, _ensure, kueue_dir
from tests.integration.kueue.queues import KUEUE_API, PRIORITY, Start

DEPLOY = Path(__file__).resolve().parents[3] / "deploy/kueue"
PLURALS = {
    "ResourceFlavor": "resourceflavors",
    "WorkloadPriorityClass": "workloadpriorityclasses",
    "ClusterQueue": "clusterqueues",
    "LocalQueue": "localqueues",
}


def _unavailable(exc: Exception) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"Kueue test environment did not start: {exc}")
    pytest.skip(f"Kueue test environment unavailable: {exc}")


@pytest.fixture(scope="session")
def kueue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KueueManager]:
    workdir: Path = tmp_path_factory.mktemp("kueue-k8s")
    try:
        version_dir = kueue_dir()
        (workdir / "cp").mkdir()
        with running_control_plane(workdir / "cp", nodes=2) as cp:
            mgr = KueueManager(cp, version_dir, workdir / "root")
            try:
                mgr.prepare().start()
                yield mgr
            finally:
                mgr.stop()
    except ControlPlaneError as exc:
        _unavailable(exc)


@pytest.fixture(scope="session")
def admin(kueue: KueueManager) -> KubeApi:
    """The agents' namespace with its governance objects, and the shipped deploy/kueue."""
    api = kueue.cp.admin()
    ensure_namespace(api, APP_NS)
    results = apply_objects(
        api, render_all(AGENTS, load_action_catalog(), RenderConfig(agents_namespace=AGENTS_NS))
    )
    assert not [str(r) for r in results if r.error]
    for name in ("resource-flavor", "workload-priority-classes", "cluster-queue", "local-queue"):
        for doc in yaml.safe_load_all((DEPLOY / f"{name}.yaml").read_text()):
            ns = doc["metadata"].get("namespace")
            plural = PLURALS[doc["kind"]]
            where = f"{KUEUE_API}/namespaces/{ns}/{plural}" if ns else f"{KUEUE_API}/{plural}"
            _ensure(api, where, doc)
    return api


@pytest.fixture
def exits() -> Exits:
    return Exits()


@pytest.fixture
def executor_for(admin: KubeApi, kueue: KueueManager, exits: Exits) -> Iterator[Start]:
    made: list[KubernetesExecutor] = []

    def start(queue: str) -> KubernetesExecutor:
        template = JobTemplate(
            namespace=AGENTS_NS,
            image="nightshift:test",
            kueue_queue=queue,
            kueue_priority_class=PRIORITY,
        )
        ex = KubernetesExecutor(admin, template, exits, kueue_visibility=kueue.visibility())
        assert ex.wait_synced()
        made.append(ex)
        return ex

    yield start
    for ex in made:
        ex.shutdown()
