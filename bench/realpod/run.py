"""The worker in a real pod against the local-process executor, in the same run.

    .venv/bin/python -m bench.realpod [--runs 5]

Starts the test control plane with one KWOK node (cordoned) and one real node
(kubelet + containerd + runc + the Debian CNI bridge; tests/integration/k8s/
real_node.py), imports the image from scripts/build-image, then runs the same
scenario ``--runs`` times, one at a time, through two ``nightshift up`` on the
host: one with the Kubernetes executor (a Job pod on the real node), one with
the local executor (a worker process). Per run, from the API's timestamps:
submission -> worker running (its first events reached the control plane) and
submission -> terminal. Writes bench/results/realpod.md and realpod.png.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.publish import (
    RESULTS,
    Check,
    figure,
    machine,
    percentile,
    reference,
    target_table,
    timestamp,
    write_report,
)
from nightshift.k8s.client import resource_path
from tests.integration.k8s.cluster import free_port, running_control_plane
from tests.integration.k8s.real_node import IMAGE, RealNode, running_real_node
from tests.support.server import TERMINAL, ControlPlane

SCENARIO = "two-am-cascade"


def _image(into: Path) -> tuple[Path, str]:
    out = subprocess.run(["scripts/build-image"], capture_output=True, text=True, check=True)
    layout = Path(out.stdout.strip().splitlines()[-1])
    index = json.loads((layout / "index.json").read_text())
    tags = {m["annotations"]["org.opencontainers.image.ref.name"] for m in index["manifests"]}
    version = next(t for t in sorted(tags) if t != "latest")
    archive = into / "nightshift.oci.tar"
    archive.write_bytes((layout.parent / f"nightshift-{version}.oci.tar").read_bytes())
    return archive, version


def _server(data: Path, overrides: dict[str, str], host_ip: str) -> ControlPlane:
    data.mkdir(parents=True)
    port = free_port()
    server = ControlPlane(
        data,
        f"sqlite:///{data / 'nightshift.db'}",
        port=port,
        env_overrides={
            "NIGHTSHIFT_HOST": "0.0.0.0",  # noqa: S104 - pods reach it through the bridge
            "NIGHTSHIFT_PUBLIC_URL": f"http://{host_ip}:{port}",
            **overrides,
        },
    )
    server.provision()
    return server


def _runs(server: ControlPlane, count: int) -> list[tuple[float, float]]:
    """(submission -> running, submission -> terminal) in seconds, per run."""
    out = []
    with server.client() as client:
        for _ in range(count):
            inv = server.submit(client, scenario=SCENARIO, title="2 AM", tier="multi-domain")
            done = server.wait_for(client, inv["id"], TERMINAL, timeout=180)
            assert done["status"] in {"succeeded", "escalated"}, done
            created = timestamp(done["created_at"])
            out.append(
                (timestamp(done["started_at"]) - created, timestamp(done["finished_at"]) - created)
            )
    return out


def _row(name: str, runs: list[tuple[float, float]]) -> str:
    running = [r[0] for r in runs]
    wall = [r[1] for r in runs]
    return (
        f"| {name} | {len(runs)} | {statistics.median(running):.2f} | "
        f"{percentile(running, 0.99):.2f} | {statistics.median(wall):.2f} | "
        f"{percentile(wall, 0.99):.2f} |"
    )


def checks(results: dict[str, list[tuple[float, float]]]) -> list[Check]:
    """Issue 21 asks for the pod against the local worker, with no target: reference rows."""
    (pod_name, pod), (local_name, local) = results.items()

    def ratio(i: int) -> float:
        return statistics.median(r[i] for r in pod) / statistics.median(r[i] for r in local)

    return [
        reference(f"submit -> running p50, {pod_name.split()[0]} / {local_name.split()[0]}: "
                  f"{ratio(0):.1f}x"),
        reference(f"submit -> terminal p50, {pod_name.split()[0]} / {local_name.split()[0]}: "
                  f"{ratio(1):.1f}x"),
    ]  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-realpod-") as tmp:
        root = Path(tmp)
        archive, version = _image(root)
        (root / "cp").mkdir()
        with (
            running_control_plane(root / "cp", nodes=1) as plane,
            running_real_node(root / "node", plane, archive) as node,
        ):
            plane.admin().merge_patch(
                resource_path("v1", "nodes", None, "kwok-node-0"),
                {"spec": {"unschedulable": True}},
            )
            results = {}
            for name, overrides in (
                ("kubernetes (Job pod on the real node)", {
                    "NIGHTSHIFT_EXECUTOR": "kubernetes",
                    "NIGHTSHIFT_K8S_KUBECONFIG": str(plane.kubeconfig),
                    "NIGHTSHIFT_K8S_WORKER_IMAGE": f"{IMAGE}:{version}",
                }),
                ("local (worker process)", {"NIGHTSHIFT_EXECUTOR": "local"}),
            ):  # fmt: skip
                server = _server(root / name.split()[0], overrides, node.ip)
                if overrides["NIGHTSHIFT_EXECUTOR"] == "kubernetes":
                    subprocess.run(
                        [sys.executable, "-m", "nightshift", "k8s", "apply",
                         "--kubeconfig", str(plane.kubeconfig)],
                        env=server.env(), capture_output=True, check=True,
                    )  # fmt: skip
                server.start()
                try:
                    _runs(server, 1)  # warm-up: first imports, first pod sandbox
                    results[name] = _runs(server, args.runs)
                finally:
                    server.stop()
            started = _node_start(node)
    lines = [
        "# The worker in a real pod vs a local worker process",
        "",
        f"Machine: {machine()}; `python -m bench.realpod --runs {args.runs}` "
        f"({time.strftime('%Y-%m-%d')}). Scenario `{SCENARIO}`, one investigation at a "
        "time, after one warm-up run each; times from the API's created/started/finished "
        "timestamps. Real node: kubelet v1.36.3, containerd 1.6, runc, CNI bridge "
        f"({started}).",
        "",
        "| executor | runs | submit -> running p50 (s) | p99 | submit -> terminal p50 (s) | p99 |",
        "|---|---|---|---|---|---|",
        *(_row(name, runs) for name, runs in results.items()),
        "",
        "Running = the worker's first events reached the control plane (it started, "
        "redeemed its credential and connected). The pod pays Job creation, scheduling, "
        "the pod sandbox (pause + CNI bridge) and the container start; the local worker "
        "a process spawn. On one 2-core machine, the ratio, not the absolute figure, is "
        "what carries over.",
        "",
        *target_table(checks(results)),
    ]
    print(write_report("realpod", lines))
    with figure(RESULTS / "realpod.png", 1, 1, figsize=(6, 3.2)) as ax:
        names = list(results)
        ax.boxplot([[r[1] for r in results[n]] for n in names], vert=False)
        ax.set_yticks(range(1, len(names) + 1), [n.split()[0] for n in names])
        ax.set_xlabel("submit -> terminal (s)")
        ax.set_title("One investigation: real pod vs local process")


def _node_start(node: RealNode) -> str:
    return ", ".join(f"{k} ready in {v:.1f} s" for k, v in node.started_in.items())
