"""Worker start-up benchmark: the template (fork) path against the spawn path.

    .venv/bin/python -m bench.startup [--quick]

Side by side in one run, each path against a real `nightshift up` (SQLite,
local executor; NIGHTSHIFT_WORKER_TEMPLATE on / off) running the offline
reasoner on the two-am-cascade scenario:
1. submit -> worker running (its first event), sequential submissions:
   p50/p99, and dispatched -> running (fork or spawn -> first event);
2. a batch submitted at once: investigations per minute, CPU-seconds per
   investigation (worker from its wait4 usage + control plane from /proc);
3. the spawn path's import cost (the worker entry's imports, wall time above a
   bare interpreter) against a budget.
Writes bench/results/startup.md and startup.png.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.publish import RESULTS, figure, percentile, timestamp, write_report
from tests.support.server import TERMINAL, ControlPlane

SCENARIO = "two-am-cascade"
TARGET_P99_MS = 250.0
TARGET_SPEEDUP = 4.0
TARGET_CPU_S = 0.5
TARGET_THROUGHPUT_X = 2.5
IMPORT_BUDGET_MS = 400.0  # the spawn path's worker imports (today ~364-390 ms)
_TICK = os.sysconf("SC_CLK_TCK")


def _cpu_of(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def _dispatched_at(plane: ControlPlane, inv_id: str) -> float:
    from nightshift.store.database import Database
    from nightshift.store.tables import InvestigationRow

    db = Database(plane.database_url)
    try:
        with db.read() as s:
            row = s.get(InvestigationRow, inv_id)
            assert row is not None and row.dispatched_at is not None
            stamp = row.dispatched_at.replace(tzinfo=None).isoformat() + "+00:00"
    finally:
        db.dispose()
    return timestamp(stamp)


def _wait_in_db(plane: ControlPlane, ids: list[str], timeout: float) -> None:
    from sqlalchemy import func, select

    from nightshift.store.database import Database
    from nightshift.store.tables import InvestigationRow

    db = Database(plane.database_url)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            with db.read() as s:
                done = s.scalar(
                    select(func.count()).where(
                        InvestigationRow.id.in_(ids), InvestigationRow.status.in_(TERMINAL)
                    )
                )
            if done == len(ids):
                return
            time.sleep(0.1)
    finally:
        db.dispose()
    raise AssertionError(f"the batch did not finish in {timeout}s")


def measure(template: bool, n_seq: int, n_batch: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        env = {
            "NIGHTSHIFT_WORKER_TEMPLATE": "true" if template else "false",
            "NIGHTSHIFT_MAX_RUNNING": "8",
            "NIGHTSHIFT_MAX_RUNNING_PER_AGENT": "8",
        }
        plane = ControlPlane(tmp, f"sqlite:///{tmp / 'nightshift.db'}", env_overrides=env)
        plane.provision()
        plane.start()
        assert plane.proc is not None
        running, fork_first, statuses = [], [], []
        try:
            with plane.client() as client:
                # One warm-up (the template starts with the first unit).
                warm = plane.submit(client, scenario=SCENARIO, title="warm-up")
                plane.wait_for(client, warm["id"], TERMINAL, timeout=120)
                for _ in range(n_seq):
                    t0 = time.time()
                    inv = plane.submit(client, scenario=SCENARIO, title="bench")
                    done = plane.wait_for(client, inv["id"], TERMINAL, timeout=120)
                    statuses.append(done["status"])
                    started = timestamp(done["started_at"])
                    running.append((started - t0) * 1000)
                    fork_first.append((started - _dispatched_at(plane, inv["id"])) * 1000)
                plane_cpu0 = _cpu_of(plane.proc.pid)
                t0 = time.monotonic()
                ids = [
                    plane.submit(client, scenario=SCENARIO, title="batch")["id"]
                    for _ in range(n_batch)
                ]
                # Waited for in the database, not by polling the API: ten GETs a
                # second for the whole batch were charged to the plane's CPU.
                _wait_in_db(plane, ids, timeout=600)
                wall = time.monotonic() - t0
                plane_cpu = _cpu_of(plane.proc.pid) - plane_cpu0
                ends = [plane.wait_for(client, i, TERMINAL, timeout=60) for i in ids]
        finally:
            plane.stop()
    worker_cpu = [float((e.get("resources") or {}).get("cpu_seconds", 0.0)) for e in ends]
    rss = [float((e.get("resources") or {}).get("max_rss_mb", 0.0)) for e in ends]
    return {
        "running_ms": running,
        "fork_first_ms": fork_first,
        "succeeded": sum(s == "succeeded" for s in statuses + [e["status"] for e in ends]),
        "total": n_seq + n_batch,
        "per_minute": n_batch / wall * 60,
        "worker_cpu_s": statistics.mean(worker_cpu),
        "plane_cpu_s": plane_cpu / n_batch,
        "worker_rss_mb": statistics.median(rss),
    }


def import_cost(runs: int = 5) -> tuple[float, int]:
    """Wall ms of the spawn path's imports (the worker's entry, as ``python -m
    nightshift agent run`` loads it) above a bare interpreter, median of runs;
    and how many modules that loads."""
    code = "from nightshift.__main__ import worker_imports; worker_imports()"

    def wall(argv: list[str]) -> float:
        t0 = time.perf_counter()
        subprocess.run(argv, check=True)
        return time.perf_counter() - t0

    bare = statistics.median(wall([sys.executable, "-c", "pass"]) for _ in range(runs))
    full = statistics.median(wall([sys.executable, "-c", code]) for _ in range(runs))
    count = subprocess.run(
        [sys.executable, "-c", f"{code}; import sys; print(len(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return (full - bare) * 1000, int(count)


def _mark(ok: bool) -> str:
    return "met" if ok else "**missed**"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    args = parser.parse_args()
    n_seq, n_batch = (10, 10) if args.quick else (40, 40)
    load = os.getloadavg()[0]
    spawn = measure(False, n_seq, n_batch)
    fork = measure(True, n_seq, n_batch)
    imp_ms, imp_mods = import_cost()
    load_end = os.getloadavg()[0]
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    p99_s, p99_f = percentile(spawn["running_ms"], 0.99), percentile(fork["running_ms"], 0.99)
    cpu_s = spawn["worker_cpu_s"] + spawn["plane_cpu_s"]
    cpu_f = fork["worker_cpu_s"] + fork["plane_cpu_s"]
    speed = p99_s / p99_f
    thr = fork["per_minute"] / spawn["per_minute"]

    def row(label: str, key: str, fmt: str = "{:.0f}") -> str:
        return f"| {label} | {fmt.format(spawn[key])} | {fmt.format(fork[key])} |"

    lines = [
        "# Worker start-up: template (fork) vs spawn",
        "",
        f"Commit {commit}; {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"load average (1 min) at start / end {load:.2f} / {load_end:.2f} (the targets "
        "assume an idle machine). Command: `python -m bench.startup"
        f"{' --quick' if args.quick else ''}`. Real `nightshift up` (SQLite, local executor), "
        f"offline reasoner, {SCENARIO}; {n_seq} sequential + {n_batch} batched investigations "
        "per path, measured in the same run.",
        "",
        "| measure | spawn | template (fork) |",
        "|---|---|---|",
        f"| submit -> running (first event), p50 | {statistics.median(spawn['running_ms']):.0f} ms"
        f" | {statistics.median(fork['running_ms']):.0f} ms |",
        f"| submit -> running, p99 | {p99_s:.0f} ms | {p99_f:.0f} ms |",
        f"| dispatched -> running (spawn/fork -> first event), p50 | "
        f"{statistics.median(spawn['fork_first_ms']):.0f} ms | "
        f"{statistics.median(fork['fork_first_ms']):.0f} ms |",
        row(f"investigations per minute (batch of {n_batch})", "per_minute"),
        row("CPU-seconds per investigation: worker", "worker_cpu_s", "{:.2f}"),
        row("CPU-seconds per investigation: control plane", "plane_cpu_s", "{:.2f}"),
        f"| CPU-seconds per investigation: total | {cpu_s:.2f} | {cpu_f:.2f} |",
        row("worker peak RSS, median (MB)", "worker_rss_mb", "{:.0f}"),
        f"| succeeded / investigations | {spawn['succeeded']} / {spawn['total']} | "
        f"{fork['succeeded']} / {fork['total']} |",
        "",
        "| target | value | |",
        "|---|---|---|",
        f"| submit -> running p99 < {TARGET_P99_MS:.0f} ms (template) | {p99_f:.0f} ms | "
        f"{_mark(p99_f < TARGET_P99_MS)} |",
        f"| >= {TARGET_SPEEDUP:.0f}x faster than spawn (p99) | {speed:.1f}x | "
        f"{_mark(speed >= TARGET_SPEEDUP)} |",
        f"| CPU per investigation <= {TARGET_CPU_S} s (template) | {cpu_f:.2f} s | "
        f"{_mark(cpu_f <= TARGET_CPU_S)} |",
        f"| investigations per minute >= {TARGET_THROUGHPUT_X}x spawn | {thr:.2f}x | "
        f"{_mark(thr >= TARGET_THROUGHPUT_X)} |",
        f"| worker imports (spawn path) <= {IMPORT_BUDGET_MS:.0f} ms | {imp_ms:.0f} ms over "
        f"{imp_mods} modules | {_mark(imp_ms <= IMPORT_BUDGET_MS)} |",
    ]
    print(write_report("startup", lines), end="")
    _plot(spawn, fork)


def _plot(spawn: dict[str, Any], fork: dict[str, Any]) -> None:
    with figure(RESULTS / "startup.png", figsize=(7, 4)) as ax:
        ax.hist([spawn["running_ms"], fork["running_ms"]], bins=25,
                label=["spawn", "template (fork)"])  # fmt: skip
        ax.axvline(TARGET_P99_MS, color="red", linestyle="--", label="target p99")
        ax.set_xlabel("submit -> worker running (ms)")
        ax.set_ylabel("investigations")
        ax.set_title("Nightshift worker start-up: spawn vs template")
        ax.legend()


if __name__ == "__main__":
    main()
