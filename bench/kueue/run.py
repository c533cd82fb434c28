"""Admission through a running Kueue v0.17.0 on KWOK nodes, against no Kueue.

    .venv/bin/python -m bench.kueue [--jobs 200] [--nodes 20] [--threads 8]

One test control plane (tests/integration/k8s/cluster.py) with the real Kueue manager
(tests/integration/kueue/manager.py; scripts/kueue-test-env builds it) and the shipped
deploy/kueue objects, its ClusterQueue widened so quota never binds: what is measured is
Kueue's admission path, not waiting for room. N investigations go through the real
KubernetesExecutor, first with Kueue (suspended Jobs with queue and priority labels),
then without (plain Jobs) on the same cluster, and it measures:
1. investigations admitted per second (a watch on Workloads sees each Admitted=True);
2. submission -> Job running (first pod Ready) p50 / p99, with and without Kueue;
3. API calls per investigation made by the executor.
Writes bench/results/kueue.md and kueue.png.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import yaml

from bench.k8s.run import NS, Observer
from bench.publish import RESULTS, Check, figure, percentile, reference, target_table, write_report
from nightshift.domain.actions import load_action_catalog
from nightshift.domain.vocabulary import Tier
from nightshift.k8s.apply import apply_objects
from nightshift.k8s.client import KubeApi, KubeError
from nightshift.k8s.jobs import JobTemplate
from nightshift.k8s.manifests import RenderConfig, render_all
from nightshift.k8s.names import job_name
from nightshift.runtime.executors.kubernetes import KubernetesExecutor
from nightshift.runtime.executors.protocol import UnitLimits, WorkerExit, WorkerLaunch
from tests.integration.k8s.cluster import running_control_plane
from tests.integration.k8s.conftest import AGENTS, APP_NS, ensure_namespace
from tests.integration.kueue.conftest import DEPLOY, PLURALS
from tests.integration.kueue.manager import KueueManager, _ensure, kueue_dir
from tests.integration.kueue.queues import KUEUE_API, PRIORITY

QUEUE = "nightshift-investigations"


class AdmissionWatch:
    """Records when Kueue admits each investigation's Workload (by its Job's name)."""

    def __init__(self, api: KubeApi) -> None:
        self.admitted_at: dict[str, float] = {}
        self._api, self._stop = api, threading.Event()
        self._path = f"{KUEUE_API}/namespaces/{NS}/workloads"
        self._rv = api.get(self._path, {"limit": "1"})["metadata"]["resourceVersion"]
        threading.Thread(target=self._loop, daemon=True).start()

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self._watch()
            except KubeError:  # a broken stream: resume from the last version seen
                continue

    def _watch(self) -> None:
        query = {"resourceVersion": self._rv}
        for event in self._api.watch(self._path, query, timeout_seconds=30):
            obj: dict[str, Any] = event["object"]
            self._rv = obj["metadata"].get("resourceVersion", self._rv)
            conds = obj.get("status", {}).get("conditions") or []
            owners = obj["metadata"].get("ownerReferences") or [{}]
            job = str(owners[0].get("name", ""))
            if any(c["type"] == "Admitted" and c["status"] == "True" for c in conds):
                self.admitted_at.setdefault(job, time.monotonic())
            if self._stop.is_set():
                return


def _install(admin: KubeApi) -> None:
    ensure_namespace(admin, APP_NS)
    apply_objects(
        admin, render_all(AGENTS, load_action_catalog(), RenderConfig(agents_namespace=NS))
    )
    for name in ("resource-flavor", "workload-priority-classes", "cluster-queue", "local-queue"):
        for doc in yaml.safe_load_all((DEPLOY / f"{name}.yaml").read_text()):
            if doc["kind"] == "ClusterQueue":  # room for every Job at once
                for res in doc["spec"]["resourceGroups"][0]["flavors"][0]["resources"]:
                    res["nominalQuota"] = {"cpu": "1000", "memory": "4000Gi"}.get(
                        res["name"], 10_000
                    )
            ns = doc["metadata"].get("namespace")
            plural = PLURALS[doc["kind"]]
            where = f"{KUEUE_API}/namespaces/{ns}/{plural}" if ns else f"{KUEUE_API}/{plural}"
            _ensure(admin, where, doc)


def _batch(admin: KubeApi, mgr: KueueManager, n: int, threads: int, kueue: bool) -> dict[str, Any]:
    done: dict[str, float] = {}
    all_done = threading.Event()

    def on_exit(exit_: WorkerExit) -> None:
        done[exit_.investigation_id] = time.monotonic()
        if len(done) >= n:
            all_done.set()

    api = mgr.cp.admin()  # its own call counter: only the executor's calls
    template = JobTemplate(
        namespace=NS,
        image="nightshift:bench",
        ttl_seconds_after_finished=600,
        kueue_queue=QUEUE if kueue else None,
        kueue_priority_class=PRIORITY if kueue else {},
    )
    executor = KubernetesExecutor(api, template, on_exit)
    assert executor.wait_synced()
    observer = Observer(admin)
    observer.start()
    admissions = AdmissionWatch(admin) if kueue else None
    prefix = "kq" if kueue else "plain"
    submitted: dict[str, float] = {}
    calls_before = api.calls

    def submit(i: int) -> None:
        inv = f"{prefix}-{i:05d}"
        submitted[inv] = time.monotonic()
        tier = Tier.MULTI_DOMAIN if i % 4 == 0 else Tier.SINGLE_DOMAIN
        executor.start(
            WorkerLaunch(
                inv,
                "watcher",
                "shadow",
                tier,
                "http://nightshift:8080",
                f"t{i}",
                UnitLimits(768, 120, 600),
            )
        )

    t0 = time.monotonic()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(submit, range(n)))
    create_seconds = time.monotonic() - t0
    finished = all_done.wait(timeout=max(300.0, n * 1.0))
    observer.stop()
    executor.shutdown()
    calls = api.calls - calls_before
    to_running = [
        (observer.running_at[i] - submitted[i]) * 1000
        for i in submitted
        if i in observer.running_at
    ]
    out: dict[str, Any] = {
        "kueue": kueue,
        "jobs": n,
        "create_seconds": create_seconds,
        "calls_per_inv": calls / n,
        "finished": len(done),
        "all_finished": finished,
        "to_running_ms": to_running,
    }
    if admissions is not None:
        admissions.stop()
        times = [
            admissions.admitted_at[job_name(i)]
            for i in submitted
            if job_name(i) in admissions.admitted_at
        ]
        out["admitted"] = len(times)
        out["admit_span"] = (max(times) - t0) if times else 0.0
        out["admitted_per_second"] = len(times) / out["admit_span"] if times else 0.0
        out["to_admitted_ms"] = [
            (admissions.admitted_at[job_name(i)] - submitted[i]) * 1000
            for i in submitted
            if job_name(i) in admissions.admitted_at
        ]
    return out


def run(jobs: int, nodes: int, threads: int) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as d:
        (Path(d) / "cp").mkdir()
        with running_control_plane(Path(d) / "cp", nodes=nodes) as cp:
            mgr = KueueManager(cp, kueue_dir(), Path(d) / "root")
            try:
                mgr.prepare().start()
                admin = cp.admin()
                _install(admin)
                out = [_batch(admin, mgr, jobs, threads, kueue) for kueue in (True, False)]
                out[0]["load"] = os.getloadavg()
                return out
            finally:
                mgr.stop()


def _ms(values: list[float]) -> str:
    if not values:
        return "n/a"
    return f"p50 {percentile(values, 0.5):,.0f} ms, p99 {percentile(values, 0.99):,.0f} ms"


TARGET_ADMITTED_PER_SECOND = 40.0  # issue 21, anchored on Kueue's own ~43 workloads/s


def checks(kq: dict[str, Any], plain: dict[str, Any]) -> list[Check]:
    """Issue 21's Kueue targets: admission rate, and the same constant calls either way."""
    return [
        Check(
            f"admitted per second through Kueue >= {TARGET_ADMITTED_PER_SECOND:.0f}",
            f"{kq['admitted_per_second']:,.1f}",
            kq["admitted_per_second"] >= TARGET_ADMITTED_PER_SECOND,
        ),
        Check(
            "API calls per investigation constant: the same with and without Kueue",
            f"{kq['calls_per_inv']:.2f} / {plain['calls_per_inv']:.2f}",
            round(kq["calls_per_inv"], 2) == round(plain["calls_per_inv"], 2),
        ),
        reference("Kueue's own baseline (the anchor): about 43 workloads/s"),
        reference(
            f"submission -> Job running p99 with / without Kueue: "
            f"{percentile(kq['to_running_ms'], 0.99):,.0f} / "
            f"{percentile(plain['to_running_ms'], 0.99):,.0f} ms"
        ),
    ]


def write(results: list[dict[str, Any]], nodes: int, threads: int) -> None:
    kq, plain = results
    rows = [
        (
            "investigations",
            f"{kq['jobs']:,} per run on {nodes} KWOK nodes, {threads} submitting threads",
        ),
        (
            "admitted per second through Kueue",
            f"{kq['admitted_per_second']:,.1f} ({kq['admitted']:,} admitted in "
            f"{kq['admit_span']:.1f} s from the first submission; Kueue's own baseline: "
            "about 43 workloads/s)",
        ),
        (
            "Jobs created per second (executor.start)",
            f"{kq['jobs'] / kq['create_seconds']:,.1f} with Kueue (its Job webhooks on every "
            f"create), {plain['jobs'] / plain['create_seconds']:,.1f} without",
        ),
        ("submission -> admitted (Kueue)", _ms(kq["to_admitted_ms"])),
        ("submission -> Job running, with Kueue", _ms(kq["to_running_ms"])),
        ("submission -> Job running, without Kueue", _ms(plain["to_running_ms"])),
        (
            "API calls per investigation (executor)",
            f"{kq['calls_per_inv']:.2f} with Kueue, {plain['calls_per_inv']:.2f} without "
            "(Secret, Job, owner link, credential delete; status from one watch)",
        ),
        (
            "finished / submitted",
            f"{kq['finished']:,} / {kq['jobs']:,} with Kueue, "
            f"{plain['finished']:,} / {plain['jobs']:,} without",
        ),
    ]
    lines = [
        "# Admission through Kueue v0.17.0 (KWOK nodes)",
        "",
        "`.venv/bin/python -m bench.kueue` on this machine (2 cores shared with other work):",
        "the test control plane (kube-apiserver, controller-manager, scheduler v1.36.3, KWOK",
        "v0.8.0) and the real Kueue manager v0.17.0 (webhooks and all) on 127.0.0.1, the",
        "shipped deploy/kueue objects with the ClusterQueue widened so quota never binds.",
        "",
        "| measure | value |",
        "|---|---|",
        *(f"| {k} | {v} |" for k, v in rows),
        "",
        "Everything (API server, Kueue, Job controller, scheduler, KWOK and the benchmark) shares",
        "the same 2 cores, with other work: load average "
        + ", ".join(f"{v:.1f}" for v in kq["load"])
        + " (1/5/15 min) at the end of the run.",
        "The ratio with/without Kueue carries over better than the absolute figures.",
        "The executor makes the same calls with or without Kueue: admission adds no",
        "per-investigation API traffic on Nightshift's side.",
        "",
        *target_table(checks(kq, plain)),
    ]
    write_report("kueue", lines)
    with figure(RESULTS / "kueue.png", figsize=(7, 4)) as ax:
        for r, color in ((kq, "#c44e52"), (plain, "#4c72b0")):
            values = sorted(v / 1000 for v in r["to_running_ms"])
            label = "with Kueue" if r["kueue"] else "without Kueue"
            ax.plot(values, range(1, len(values) + 1), color=color, label=label)
        ax.set_title("submission -> Job running")
        ax.set_xlabel("seconds after its submission")
        ax.set_ylabel("investigations running (cumulative)")
        ax.legend()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--nodes", type=int, default=20)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    write(run(args.jobs, args.nodes, args.threads), args.nodes, args.threads)
    print((RESULTS / "kueue.md").read_text())
