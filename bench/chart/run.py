"""Chart render time as the agents grow: compile, then ``helm template``.

    .venv/bin/python -m bench.chart [--agents 1 10 50] [--runs 5]

For each size, N agent identities (the example agent of the chart, renamed,
all in the rendered phase) are compiled into a values file by the same
compiler as ``nightshift k8s render --values`` (what scripts/gen-helm-values
runs), then rendered by helm 4 (``helm template``, from scripts/helm-test-env)
for production / limited-remediation, the phase with the most RBAC. Reported
per size: the compile and render medians, the objects and bytes rendered.
Writes bench/results/chart.md and chart.png. The issue's figure is 50 agents.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from bench.publish import RESULTS, Check, figure, machine, reference, target_table, write_report

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy" / "helm" / "nightshift"
ENVIRONMENT, PHASE = "production", "limited-remediation"
ISSUE_AGENTS = 50  # the size issue 19 asks the render time for


def _helm() -> Path:
    out = subprocess.run(
        [str(ROOT / "scripts" / "helm-test-env")], capture_output=True, text=True, check=True
    )
    return Path(out.stdout.strip().splitlines()[-1]) / "helm"


def _agents(n: int) -> dict[str, Any]:
    example = yaml.safe_load((CHART / "agents.example.yaml").read_text())["agents"][0]
    return {"agents": [{**example, "name": f"agent-{i:02d}", "phase": PHASE} for i in range(n)]}


def _timed(argv: list[str]) -> tuple[float, str]:
    t0 = time.perf_counter()
    out = subprocess.run(argv, capture_output=True, text=True, check=True)
    return time.perf_counter() - t0, out.stdout


def measure(helm: Path, n: int, runs: int, work: Path) -> dict[str, float]:
    agents = work / f"agents-{n}.yaml"
    agents.write_text(yaml.safe_dump(_agents(n)))
    values = work / f"values-{n}.yaml"
    compile_s: list[float] = []
    render_s: list[float] = []
    rendered = ""
    for _ in range(runs):
        took, text = _timed(
            [sys.executable, "-m", "nightshift", "k8s", "render", "--values", "--agents",
             str(agents), "--environment", ENVIRONMENT, "--phase", PHASE]
        )  # fmt: skip
        compile_s.append(took)
        values.write_text(text)
        took, rendered = _timed(
            [str(helm), "template", "nightshift", str(CHART), "-n", "nightshift", "-f", str(values)]
        )
        render_s.append(took)
    objects = [d for d in yaml.safe_load_all(rendered) if d]
    return {
        "agents": n,
        "compile_ms": statistics.median(compile_s) * 1000,
        "render_ms": statistics.median(render_s) * 1000,
        "objects": len(objects),
        "kib": len(rendered.encode()) / 1024,
    }


def checks(rows: list[dict[str, float]]) -> list[Check]:
    """Issue 19 asks for the render time at 50 agents and sets no target: reference rows."""
    return [
        reference(
            f"{r['agents']:.0f} agents: compile + helm template "
            f"{r['compile_ms'] + r['render_ms']:.0f} ms"
        )
        for r in rows
        if r is rows[-1] or r["agents"] == ISSUE_AGENTS
    ]


def report(rows: list[dict[str, float]], runs: int) -> list[str]:
    lines = [
        "# Helm chart: render time as the agents grow",
        "",
        f"Machine: {machine()}. Command: `python -m bench.chart`. Median of {runs} runs per size;",
        f"values for {ENVIRONMENT} / {PHASE} compiled by `nightshift k8s render --values`",
        "(a fresh interpreter each run, as scripts/gen-helm-values runs it), then `helm template`.",
        "No target in the issue: the figure asked for is 50 agents.",
        "",
        "| agents | compile (ms) | helm template (ms) | objects | rendered (KiB) |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['agents']:.0f} | {r['compile_ms']:.0f} | {r['render_ms']:.0f} "
        f"| {r['objects']:.0f} | {r['kib']:.0f} |"
        for r in rows
    ]
    return [*lines, "", *target_table(checks(rows))]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, nargs="+", default=[1, 10, 50])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    helm = _helm()
    with tempfile.TemporaryDirectory(prefix="bench-chart-") as tmp:
        rows = [measure(helm, n, args.runs, Path(tmp)) for n in args.agents]
    print(write_report("chart", report(rows, args.runs)))
    with figure(RESULTS / "chart.png", 1, 1, figsize=(6, 3.5)) as ax:
        xs = [r["agents"] for r in rows]
        ax.plot(xs, [r["compile_ms"] for r in rows], marker="o", label="compile (k8s render)")
        ax.plot(xs, [r["render_ms"] for r in rows], marker="o", label="helm template")
        ax.set_xlabel("agents")
        ax.set_ylabel("median ms")
        ax.set_title("Chart render time")
        ax.legend()
