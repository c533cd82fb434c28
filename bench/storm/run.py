"""Cost as the storm grows: one investigation at 1x, 10x and 100x alerts.

    .venv/bin/python -m bench.storm [--factors 1 10 100]

Each size runs in its own process (so peak RSS is that investigation's, as in
a worker): the two-am-cascade scenario with every alert-storm group's count
repeated factor times, loaded, then investigated by the offline reasoner
against the simulated world (the loop's 200,000-character answer cap, as in a
worker). Reported per size: scenario load time, investigation wall and CPU
time, peak RSS, what ``list_alerts`` answers (characters, how many alerts it
accounts for, whether the newest alert and every alert name are in it) and
whether the diagnosis is still right (A@1). Writes bench/results/storm.md and
storm.png.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import resource
import subprocess
import sys
import time
from typing import Any

from bench.publish import RESULTS, figure, mark, write_report

SCENARIO = "two-am-cascade"
_COUNTED = re.compile(r"^(?:at least )?(\d+) alerts firing", re.M)


def one(factor: int) -> dict[str, Any]:
    """One size, in this process; the caller starts a fresh process per size."""
    from bench.diagnosis.scenario_corpus import _request, score
    from nightshift.agent.investigation import investigate
    from nightshift.agent.limits import Limits
    from nightshift.agent.loop import MAX_TEXT_CHARS
    from nightshift.agent.tools.protocol import ToolCall
    from nightshift.domain.diagnosis import ResourceRef
    from nightshift.domain.vocabulary import Tier
    from nightshift.scenarios import SimulatedWorld
    from nightshift.scenarios.loader import _read_yaml, parse_scenario, resolve_path

    path = resolve_path(SCENARIO)
    doc = json.loads(json.dumps(_read_yaml(path)))  # a private copy to scale
    # each storm group repeated: a file caps one group's count at 2,000
    doc["alert_storm"] = [g for g in doc.get("alert_storm") or [] for _ in range(factor)]
    t0 = time.perf_counter()
    scenario = parse_scenario(doc, path)
    load_s = time.perf_counter() - t0
    alerts = scenario.alerts
    newest = min(alerts, key=lambda a: a.since)
    world = SimulatedWorld(scenario)
    # what the reasoner reads: the loop cuts longer answers at its cap
    answer = asyncio.run(world.call(ToolCall("list_alerts", {}))).text[:MAX_TEXT_CHARS]
    tier = Tier(scenario.metadata.tier)
    truth = scenario.ground_truth
    faults = frozenset([truth.fault, *truth.alternative_faults])
    objects = tuple(
        ResourceRef(r.kind, r.name, r.namespace)
        for r in (truth.root_cause, *truth.alternative_resources)
    )
    c0, t1 = time.process_time(), time.perf_counter()
    diagnosis = asyncio.run(
        investigate(_request(scenario, tier), world, tier=tier, limits=Limits.for_tier(tier))
    )
    wall_s, cpu_s = time.perf_counter() - t1, time.process_time() - c0
    counted = _COUNTED.search(answer)
    names = {a.name for a in alerts}
    top = diagnosis.top
    return {
        "factor": factor,
        "alerts": len(alerts),
        "load_s": load_s,
        "wall_s": wall_s,
        "cpu_s": cpu_s,
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "answer_chars": len(answer),
        "answer_rows": answer.count("\n"),
        "counted": int(counted.group(1)) if counted else 0,
        "newest_shown": f"{newest.name}" in answer and newest.target in answer,
        "names_shown": sum(n in answer for n in names),
        "names": len(names),
        "a1": score(diagnosis, faults, objects).a1,
        "top": f"{top.resource.kind}/{top.resource.name} {top.fault}" if top else "-",
    }


def _run_child(factor: int) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "bench.storm", "--one", str(factor)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


def _ratio(rows: list[dict[str, Any]], key: str) -> float:
    return float(rows[-1][key]) / float(rows[0][key])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--factors", type=int, nargs="+", default=[1, 10, 100])
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(one(args.one)))
        return
    load = os.getloadavg()[0]
    rows = [_run_child(f) for f in args.factors]
    load_end = os.getloadavg()[0]
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    grow = rows[-1]["alerts"] / rows[0]["alerts"]
    lines = [
        "# Cost as the storm grows",
        "",
        f"Commit {commit}; {os.cpu_count()} cores, Python {platform.python_version()}; load "
        f"average (1 min) at start / end {load:.2f} / {load_end:.2f}. Command: `python -m "
        f"bench.storm`. {SCENARIO} with every alert-storm group repeated factor times; one "
        "process per size; offline reasoner against the simulated world.",
        "",
        "| factor | alerts | scenario load | investigation wall | investigation CPU | peak RSS "
        "| list_alerts chars | alerts it accounts for | newest alert in it | alert names in it "
        "| A@1 | top-1 |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['factor']}x | {r['alerts']} | {r['load_s'] * 1000:.0f} ms | "
            f"{r['wall_s'] * 1000:.0f} ms | {r['cpu_s']:.2f} s | {r['rss_mb']:.0f} MB | "
            f"{r['answer_chars']} | {r['counted']} | {'yes' if r['newest_shown'] else '**no**'} | "
            f"{r['names_shown']} / {r['names']} | {'yes' if r['a1'] else '**no**'} | {r['top']} |"
        )

    wall_x, rss_x = _ratio(rows, "wall_s"), _ratio(rows, "rss_mb")
    full = all(r["counted"] == r["alerts"] and r["newest_shown"] for r in rows)
    lines += [
        "",
        "| target | value | |",
        "|---|---|---|",
        f"| wall time grows sublinearly ({grow:.0f}x alerts) | {wall_x:.1f}x | "
        f"{mark(wall_x < grow)} |",
        f"| peak RSS grows sublinearly ({grow:.0f}x alerts) | {rss_x:.1f}x | "
        f"{mark(rss_x < grow)} |",
        f"| list_alerts accounts for every alert and shows the newest, at every size | "
        f"{'yes' if full else 'no'} | {mark(full)} |",
        f"| the diagnosis stays right (A@1) at every size | "
        f"{sum(r['a1'] for r in rows)} / {len(rows)} | {mark(all(r['a1'] for r in rows))} |",
    ]
    print(write_report("storm", lines), end="")
    _plot(rows)


def _plot(rows: list[dict[str, Any]]) -> None:
    xs = [r["alerts"] for r in rows]
    with figure(RESULTS / "storm.png", figsize=(7, 4)) as ax:
        for key, label, scale in (
            ("wall_s", "investigation wall (ms)", 1000.0),
            ("load_s", "scenario load (ms)", 1000.0),
            ("rss_mb", "peak RSS (MB)", 1.0),
        ):
            ax.plot(xs, [r[key] * scale for r in rows], marker="o", label=label)
        base = rows[0]
        ax.plot(xs, [base["rss_mb"] * x / xs[0] for x in xs], linestyle=":", color="grey",
                label="linear from 1x (RSS)")  # fmt: skip
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("alerts in the storm")
        ax.set_title("Nightshift: one investigation as the alert storm grows")
        ax.legend()


if __name__ == "__main__":
    main()
