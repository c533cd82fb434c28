"""The worker in a real pod: one real kubelet (containerd, runc, the Debian CNI plugins)
beside the KWOK nodes of the test control plane, running Nightshift's own image.

KWOK pods never execute anything; here the Job the Kubernetes executor creates runs
the image's worker, which redeems its credential from the Secret, reaches the
control plane over the pod network and posts its diagnosis. Outside CI a machine
that cannot run a node skips with the reason; in CI (``CI=true``) that is a failure.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from nightshift.domain.vocabulary import Tier
from nightshift.k8s.client import KubeApi, resource_path
from nightshift.k8s.jobs import JobTemplate
from nightshift.k8s.names import job_name
from nightshift.runtime.executors.kubernetes import KubernetesExecutor
from nightshift.runtime.executors.protocol import UnitLimits, WorkerExit, WorkerLaunch
from tests.integration.k8s.cluster import (
    REPO,
    ControlPlane,
    ControlPlaneError,
    free_port,
    running_control_plane,
)
from tests.integration.k8s.real_node import IMAGE, NODE, RealNode, RealNodeError, running_real_node
from tests.support.server import TERMINAL
from tests.support.server import ControlPlane as Nightshift

pytestmark = pytest.mark.slow
AGENTS_NS = "nightshift-agents"
SCENARIO = "two-am-cascade"


@dataclass
class Cluster:
    plane: ControlPlane
    node: RealNode
    image: str


def _unavailable(what: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(what)
    pytest.skip(what)


def _image_archive(into: Path) -> tuple[Path, str]:
    """scripts/build-image's archive (cached layers: seconds), copied so a concurrent
    rebuild cannot change it under the import; and its version tag."""
    out = subprocess.run(
        [str(REPO / "scripts/build-image")], capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        _unavailable(f"scripts/build-image failed:\n{out.stderr[-3000:]}")
    layout = Path(out.stdout.strip().splitlines()[-1])
    index = json.loads((layout / "index.json").read_text())
    tags = {m["annotations"]["org.opencontainers.image.ref.name"] for m in index["manifests"]}
    version = next(t for t in sorted(tags) if t != "latest")
    archive = into / "nightshift.oci.tar"
    archive.write_bytes((layout.parent / f"nightshift-{version}.oci.tar").read_bytes())
    return archive, version


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    workdir = tmp_path_factory.mktemp("real-node")
    archive, version = _image_archive(workdir)
    (workdir / "cp").mkdir()
    try:
        with (
            running_control_plane(workdir / "cp", nodes=1) as plane,
            running_real_node(workdir / "node", plane, archive) as node,
        ):
            # The KWOK node stays, cordoned: the scheduler must choose the real one.
            plane.admin().merge_patch(
                resource_path("v1", "nodes", None, "kwok-node-0"),
                {"spec": {"unschedulable": True}},
            )
            yield Cluster(plane, node, f"{IMAGE}:{version}")
    except (ControlPlaneError, RealNodeError) as exc:
        _unavailable(f"a real node could not run here: {exc}")


@pytest.fixture(scope="module")
def nightshift(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nightshift]:
    """`nightshift up` on the host with the Kubernetes executor; pods reach it at the
    host's address through the bridge."""
    data = tmp_path_factory.mktemp("nightshift")
    port = free_port()
    server = Nightshift(
        data,
        f"sqlite:///{data / 'nightshift.db'}",
        port=port,
        env_overrides={
            # Pods are not on loopback; the readiness probe is.
            "NIGHTSHIFT_HOST": "0.0.0.0",
            "NIGHTSHIFT_PUBLIC_URL": f"http://{cluster.node.ip}:{port}",
            "NIGHTSHIFT_EXECUTOR": "kubernetes",
            "NIGHTSHIFT_K8S_KUBECONFIG": str(cluster.plane.kubeconfig),
            "NIGHTSHIFT_K8S_WORKER_IMAGE": cluster.image,
        },
    )
    server.provision()
    # The agents' namespace, ServiceAccounts and RBAC, as an operator installs them.
    applied = subprocess.run(
        [sys.executable, "-m", "nightshift", "k8s", "apply",
         "--kubeconfig", str(cluster.plane.kubeconfig)],
        env=server.env(), capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert applied.returncode == 0, applied.stdout + applied.stderr
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _events(admin: KubeApi, pod_prefix: str) -> list[dict[str, Any]]:
    items = admin.get(resource_path("v1", "events", AGENTS_NS)).get("items", [])
    return [e for e in items if e["involvedObject"]["name"].startswith(pod_prefix)]


def test_an_investigation_runs_as_a_real_job_pod_and_posts_its_diagnosis(
    cluster: Cluster, nightshift: Nightshift
) -> None:
    with nightshift.client() as client:
        submitted = time.monotonic()
        inv = nightshift.submit(client, scenario=SCENARIO, title="2 AM", tier="multi-domain")
        done = nightshift.wait_for(client, inv["id"], TERMINAL, timeout=180)
        wall = time.monotonic() - submitted
    # The diagnosis could only come from the worker in the pod: the Kubernetes executor
    # starts no local process, and the worker's token reached it only through the Secret.
    assert done["status"] in {"succeeded", "escalated"}, (done, nightshift.log_text()[-3000:])
    assert done["result"]["root_causes"], done["result"]
    admin = cluster.plane.admin()
    events = _events(admin, job_name(inv["id"]))
    scheduled = [e["message"] for e in events if e["reason"] == "Scheduled"]
    assert scheduled and scheduled[0].endswith(f"to {NODE}"), events
    started = [e for e in events if e["reason"] == "Started"]
    # Reported by the real kubelet (KWOK emits no container events).
    assert started and started[0]["source"].get("host") == NODE, events
    print(f"real pod: submit -> terminal {wall:.1f} s; node up in {cluster.node.started_in}")


def test_the_executor_reports_the_pods_own_exit_status_and_log(
    cluster: Cluster, nightshift: Nightshift
) -> None:
    """A worker that cannot reach its control plane exits 1 in the container: the
    executor's exit and log are the kubelet's, read back through the API server."""
    admin = cluster.plane.admin()
    exits: queue.Queue[WorkerExit] = queue.Queue()
    template = JobTemplate(namespace=AGENTS_NS, image=cluster.image, ttl_seconds_after_finished=60)
    executor = KubernetesExecutor(admin, template, exits.put)
    assert executor.wait_synced()
    inv = "01a23b4d341c0000000000000000feed"
    try:
        executor.start(
            WorkerLaunch(
                investigation_id=inv,
                agent="triage",
                trust_phase="assist",
                tier=Tier.SINGLE_DOMAIN,
                api_url=f"http://{cluster.node.ip}:{free_port()}",  # nothing listens
                token="tok-unused",
                limits=UnitLimits(memory_mb=768, cpu_seconds=60, deadline_seconds=120),
                secrets_handoff="handoff",
            )
        )
        exit_ = exits.get(timeout=120)
        # What the control plane sends when the investigation ends: the finished Job stays.
        executor.stop(inv, "investigation ended")
        pods = admin.get(
            resource_path("v1", "pods", AGENTS_NS),
            {"labelSelector": f"batch.kubernetes.io/job-name={job_name(inv)}"},
        )["items"]
        assert [p["spec"]["nodeName"] for p in pods] == [NODE]
        terminated = pods[0]["status"]["containerStatuses"][0]["state"]["terminated"]
        kubelet_log = admin.get_text(
            resource_path("v1", "pods", AGENTS_NS, pods[0]["metadata"]["name"], "log")
        )
        assert terminated["exitCode"] == 1
        assert (
            exit_.reason == f"worker crashed with exit code {terminated['exitCode']}; see its log"
        )
        assert "control plane unreachable" in kubelet_log
        assert executor.read_log(inv) == kubelet_log
    finally:
        executor.stop(inv, "test over")
        executor.shutdown()
