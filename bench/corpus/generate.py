# ruff: noqa: E501 - fault tables and kubelet messages read best one per line
"""``python -m bench.corpus generate --out DIR``: stage every case, let the control plane
react, record the toolset's answers and write one bundle per case.

Namespaced cases are staged side by side in one cluster; node faults are
cluster-wide (every namespace sees every node), so each is staged alone,
recorded, and removed before the next.
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.corpus import bundle, faults_control, faults_kubelet, faults_network
from bench.corpus.kube import stamp
from bench.corpus.model import Case, FaultType, variants
from bench.corpus.record import record
from bench.corpus.stage import (
    CAPACITY,
    control_plane,
    create_case,
    post_events,
    stage_namespaced,
)
from nightshift.k8s.client import KubeApi, KubeError, resource_path

Obj = dict[str, Any]
SPLITS = (("dev", [0, 1]), ("val", [2]))  # two thirds development, one third validation


def fault_types() -> list[FaultType]:
    return [*faults_control.FAULTS, *faults_kubelet.FAULTS, *faults_network.FAULTS]


def plan_cases(now: datetime, only: str | None = None) -> list[Case]:
    cases = []
    for fi, ft in enumerate(fault_types()):
        if only and not any(part in ft.id for part in only.split(",")):
            continue
        for split, indexes in SPLITS:
            for v in variants(split, fi, indexes, now):
                cases.append(Case(f"{ft.id}-{split}{v.index}", split, ft.id, v, ft.build(v)))
    return cases


def _truth(case: Case, refused: list[str], live: Obj) -> Obj:
    return {
        "id": case.id,
        "split": case.split,
        "fault_type": case.fault_type,
        "question": case.built.question,
        "namespace": case.variant.ns,
        "truth": case.built.truth.to_dict(),
        "refused_at_staging": refused,
        "live_run": live,
    }


def _save(out: Path, api: KubeApi, case: Case, refused: list[str]) -> None:
    records, specs, live = record(api, case.variant.ns, case.built.question)
    bundle.write(out / case.id, _truth(case, refused, live), specs, records)


def _pods(api: KubeApi, ns: str) -> list[Obj]:
    items: list[Obj] = api.get(resource_path("v1", "pods", ns)).get("items", [])
    return items


def _status(api: KubeApi, path: str, status: Obj) -> None:
    api.request(
        "PATCH",
        path + "/status",
        body={"status": status},
        content_type="application/merge-patch+json",
    )


def _node_status(now: datetime, serial: int, bad: Obj | None) -> Obj:
    healthy = {
        "Ready": ("True", "KubeletReady", "kubelet is posting ready status"),
        "MemoryPressure": (
            "False",
            "KubeletHasSufficientMemory",
            "kubelet has sufficient memory available",
        ),
        "DiskPressure": ("False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
        "PIDPressure": ("False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
    }
    stopped = bad is not None and bad.get("Ready", ("",))[0] == "Unknown"
    conds = []
    for kind, (status, reason, message) in healthy.items():
        beat, since = stamp(now, 0), stamp(now, 86400 * 12)
        if bad and kind in bad:
            (status, reason, message), since = bad[kind], stamp(now, 260)
        elif stopped:
            status, reason, message, since = (
                "Unknown",
                "NodeStatusUnknown",
                "Kubelet stopped posting node status.",
                stamp(now, 260),
            )
        if stopped:
            beat = stamp(now, 300)
        conds.append(
            {
                "type": kind,
                "status": status,
                "reason": reason,
                "message": message,
                "lastHeartbeatTime": beat,
                "lastTransitionTime": since,
            }
        )
    return {
        "conditions": conds,
        "capacity": CAPACITY,
        "allocatable": CAPACITY,
        "addresses": [
            {"type": "InternalIP", "address": f"10.0.{serial // 200}.{serial % 200 + 20}"}
        ],
        "nodeInfo": {
            "architecture": "amd64",
            "operatingSystem": "linux",
            "osImage": "Ubuntu 24.04.1 LTS",
            "kernelVersion": "6.8.0-1019-aws",
            "containerRuntimeVersion": "containerd://2.1.4",
            "kubeletVersion": "v1.36.3",
            "kubeProxyVersion": "v1.36.3",
            "machineID": "",
            "systemUUID": "",
            "bootID": "",
        },
    }


def stage_node_case(api: KubeApi, case: Case) -> list[str]:
    """A node the scheduler placed pods on, then broke as its kubelet would report."""
    plan, v = case.built.plan, case.variant
    fault = plan.node_fault or {}
    node = plan.nodes[0]
    path = resource_path("v1", "nodes", None, node["name"])
    meta = {
        "name": node["name"],
        "labels": {
            "kubernetes.io/hostname": node["name"],
            "kubernetes.io/os": "linux",
            **node["labels"],
        },
    }
    api.create("/api/v1/nodes", {"apiVersion": "v1", "kind": "Node", "metadata": meta})
    _status(api, path, _node_status(datetime.now(UTC), v.serial, None))
    refused = create_case(api, case)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        pods = _pods(api, v.ns)
        mine = [p for p in pods if p["spec"].get("nodeName") == node["name"]]
        if len(mine) >= 2:
            break
        time.sleep(0.3)
    now = datetime.now(UTC)
    for i, pod in enumerate(mine):
        c = pod["spec"]["containers"][0]
        _status(
            api,
            resource_path("v1", "pods", v.ns, pod["metadata"]["name"]),
            {
                "phase": "Running",
                "hostIP": f"10.0.{v.serial // 200}.{v.serial % 200 + 20}",
                "podIP": f"10.244.{v.serial % 250}.{i + 2}",
                "podIPs": [{"ip": f"10.244.{v.serial % 250}.{i + 2}"}],
                "startTime": stamp(now, 5),
                "conditions": [
                    {"type": t, "status": "True", "lastTransitionTime": stamp(now, 5)}
                    for t in (
                        "PodReadyToStartContainers",
                        "Initialized",
                        "Ready",
                        "ContainersReady",
                        "PodScheduled",
                    )
                ],
                "containerStatuses": [
                    {
                        "name": c["name"],
                        "image": c["image"],
                        "imageID": "",
                        "ready": True,
                        "restartCount": 0,
                        "started": True,
                        "state": {"running": {"startedAt": stamp(now, 5)}},
                    }
                ],
            },
        )
    time.sleep(1)
    _status(api, path, _node_status(datetime.now(UTC), v.serial, fault["conditions"]))
    if fault["kind"] in ("disk", "memory") and mine:
        resource = "ephemeral-storage" if fault["kind"] == "disk" else "memory"
        _status(
            api,
            resource_path("v1", "pods", v.ns, mine[0]["metadata"]["name"]),
            {
                "phase": "Failed",
                "reason": "Evicted",
                "message": f"The node was low on resource: {resource}. Threshold quantity: 10%, available: 4%.",
            },
        )
    time.sleep(12)  # the node lifecycle controller taints the node and marks pods not ready
    post_events(api, case)
    return refused


def _cleanup(api: KubeApi, case: Case) -> None:
    with contextlib.suppress(KubeError):
        api.delete(resource_path("v1", "namespaces", None, case.variant.ns))
    for node in case.built.plan.nodes:
        with contextlib.suppress(KubeError):
            api.delete(resource_path("v1", "nodes", None, node["name"]))


def generate(out: Path, only: str | None = None, settle: float = 25.0, log: Any = print) -> int:
    # Kubelet-reported times (restarts, last terminations) are planned relative to when the
    # cases are recorded, so they fall after the pods' creation and before the recording.
    now = datetime.now(UTC) + timedelta(seconds=settle * 1.5 + 20)
    cases = plan_cases(now, only)
    out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with (
        tempfile.TemporaryDirectory(prefix="corpus-") as tmp,
        control_plane(Path(tmp), cases) as cp,
    ):
        api = cp.admin()
        shared = [c for c in cases if c.built.plan.node_fault is None]
        refused = stage_namespaced(api, shared, settle)
        log(f"staged {len(shared)} namespaced cases in {time.monotonic() - started:.0f}s")
        time.sleep(1)
        for i, c in enumerate(shared):
            _save(out, api, c, refused[c.id])
            if i % 20 == 19:
                log(f"recorded {i + 1}/{len(shared)}")
        for c in (c for c in cases if c.built.plan.node_fault is not None):
            refused_node = stage_node_case(api, c)
            _save(out, api, c, refused_node)
            _cleanup(api, c)
            log(f"recorded node case {c.id}")
    log(f"{len(cases)} bundles in {out} after {time.monotonic() - started:.0f}s")
    return len(cases)
