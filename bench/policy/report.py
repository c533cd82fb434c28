"""Markdown table and PNG plot for the governance benchmark."""

from __future__ import annotations

import platform
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.publish import Check, figure, mark, reference, target_table

TARGET_P99_US = 50.0  # issue 4: a policy decision in-process
TARGET_GOVERNED_PCT = 2.0  # issues 4 and 16: governed added share of an investigation's wall


@dataclass(frozen=True)
class Latency:
    name: str
    samples_us: Sequence[float]

    def pct(self, q: float) -> float:
        data = sorted(self.samples_us)
        return data[min(len(data) - 1, int(q * len(data)))]


Whole = dict[str, float] | str  # a workload's figures, or why it was not measured
WORKLOADS = {
    "live": "live API reads (a real kube-apiserver)",
    "replay": "replayed answers (worst case)",
}


def checks(
    decisions: list[Latency], audit: dict[str, float], wholes: dict[str, Whole]
) -> list[Check]:
    """Issue 4's two targets, the second on each workload; the audit chain's throughput
    is asked for without one."""
    out = [
        Check(f"decide() p99 < {TARGET_P99_US:.0f} µs: {lat.name}", f"{lat.pct(0.99):.2f} µs",
              lat.pct(0.99) < TARGET_P99_US)
        for lat in decisions
    ]  # fmt: skip
    for key, label in WORKLOADS.items():
        whole = wholes[key]
        target = (
            f"governed tool calls add < {TARGET_GOVERNED_PCT:.0f} % to whole investigations: "
            f"{label}"
        )
        if isinstance(whole, str):  # a target nobody measured is not met
            out.append(Check(target, f"not measured: {whole}", False))
            continue
        # What the machine can tell apart: the paired governed-minus-raw difference
        # plus the size of the same difference between identical sides. Met only
        # when even that upper bound is under the target.
        bound = whole["paired_overhead_pct"] + abs(whole["paired_noise_pct"])
        value = (
            f"at most {bound:.2f} % ({whole['paired_overhead_pct']:+.2f} % measured, noise "
            f"{abs(whole['paired_noise_pct']):.2f} %)"
        )
        out.append(Check(target, value, bound < TARGET_GOVERNED_PCT))  # fmt: skip
    out.append(
        reference(
            f"audit chain, {int(audit['records']):,} records: append {audit['append_per_s']:,.0f}"
            f" / verify {audit['verify_per_s']:,.0f} records/s"
        )
    )
    return out


def _whole_row(label: str, whole: dict[str, float]) -> str:
    return (
        f"| {label} | {int(whole['cases'])} | {int(whole['rounds'])} | {int(whole['calls'])} | "
        f"{whole['raw_s']:.3f} | {whole['governed_s']:.3f} | "
        f"{whole['paired_overhead_pct']:+.2f} % | {whole['paired_noise_pct']:+.2f} % | "
        f"{whole['attributed_pct']:.2f} % | {whole['attributed_us_per_call']:.1f} µs | "
        f"{whole['overhead_pct']:+.2f} % | {whole['noise_pct']:+.2f} % | "
        f"{int(whole['denied'])} |"
    )


def markdown(
    decisions: list[Latency],
    floor_us: float,
    audit: dict[str, float],
    governed: dict[str, float],
    wholes: dict[str, Whole],
) -> str:
    lines = [
        "# Governance benchmark",
        "",
        f"Generated {datetime.now(UTC):%Y-%m-%d %H:%M UTC} with `.venv/bin/python -m bench.policy` "
        f"on Python {platform.python_version()} ({platform.machine()}, "
        f"{platform.system()}). Targets: policy decision p99 < {TARGET_P99_US:.0f} µs, "
        f"governed tool calls add < {TARGET_GOVERNED_PCT:.0f} % to whole investigations.",
        "",
        "## Policy decision latency (in-process, one `decide()` call)",
        "",
        "| request | samples | p50 µs | p99 µs | p99.9 µs | max µs "
        f"| p99 < {TARGET_P99_US:.0f} µs |",
        "|---|---:|---:|---:|---:|---:|:---:|",
    ]
    for lat in decisions:
        p99 = lat.pct(0.99)
        lines.append(
            f"| {lat.name} | {len(lat.samples_us)} | {lat.pct(0.5):.2f} | {p99:.2f} | "
            f"{lat.pct(0.999):.2f} | {max(lat.samples_us):.1f} | "
            f"{mark(p99 < TARGET_P99_US)} |"
        )
    lines += [
        "",
        f"Timer floor (two consecutive `perf_counter_ns` calls, median): {floor_us:.3f} µs; "
        "included in the numbers above.",
        "",
        f"## Audit hash chain ({int(audit['records']):,} records)",
        "",
        "| operation | total s | records / s |",
        "|---|---:|---:|",
        f"| append (canonical JSON + sha256) | {audit['append_s']:.3f} | "
        f"{audit['append_per_s']:,.0f} |",
        f"| verify (recompute + links + anchor) | {audit['verify_s']:.3f} | "
        f"{audit['verify_per_s']:,.0f} |",
        "",
        "## Governed tool call overhead",
        "",
        "| path | µs per call |",
        "|---|---:|",
        f"| raw toolset (answers instantly) | {governed['raw_us']:.2f} |",
        f"| governed as a worker runs it | {governed['governed_us']:.2f} |",
        f"| overhead | {governed['overhead_us']:.2f} |",
        "",
        "Governed as a worker runs it: `WorkerGovernance` (the policy decision, the chain's "
        "budget and call-rate window, an audit record of every decision, drained). "
        f"Against a 1 ms tool call (a fast local API read) the overhead is "
        f"{governed['overhead_us'] / 1000:.2%}; an investigation of 30 tool calls pays "
        f"{governed['overhead_us'] * 30 / 1000:.2f} ms in total for policy.",
        "",
        "## Whole investigations, raw vs governed toolset",
        "",
        "The offline reasoner on two workloads, each case in interleaved rounds of four "
        "sides: raw, raw again, governed (as a worker runs it), and governed with timers.",
        "",
        "- **Live**: faults of bench.corpus (one per namespaced fault type) staged on a real "
        "kube-apiserver with controller-manager, scheduler and KWOK; every answer is an "
        "API read through the Kubernetes toolset, as in a worker investigating a cluster.",
        "- **Replay**: the recorded HolmesGPT fixtures; answers come back in microseconds, "
        "so governance's share is as large as it gets: a worst case.",
        "",
        "Measures:",
        "- **Paired, governed minus raw** (the target's measure): in each round the "
        "four sides run back to back, so each governed run is set against the raw run "
        "beside it; per case the median of those ratios, weighted by the case's raw "
        "time. Beside it, the same for the two identical raw sides: the noise floor of "
        "that difference on this machine at this load. The target is held to their "
        "sum, an upper bound of what governance adds.",
        "- **Spent inside the governed calls**: each governed call timed from outside "
        "the wrapper and its inner answer from inside; the difference (request, "
        "decision, budget, audit, and the timers' own frames and their cold caches) over "
        "the timed runs' wall time. It errs high: the timers and the extra wrapper cost "
        "more than the governance they surround.",
        "- **Fastest runs, governed minus raw**: the sum over cases of each side's "
        "fastest run, and the same between the raw sides (a second view; the fastest "
        "of a few runs moves by a few per cent from run to run).",
        "",
        "| workload | cases | rounds | tool calls | raw s | governed s | "
        "paired: governed - raw | paired: raw again - raw (noise) | "
        "spent inside governed calls | per call | fastest runs: governed - raw | "
        "fastest: raw again - raw | denied calls |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for key, label in WORKLOADS.items():
        whole = wholes[key]
        if isinstance(whole, str):
            lines.append(f"| {label} | not measured: {whole} |" + " |" * 11)
        else:
            lines.append(_whole_row(label, whole))
    lines.append("")
    lines += ["## Targets", "", *target_table(checks(decisions, audit, wholes)), ""]
    return "\n".join(lines)


def plot(decisions: list[Latency], audit: dict[str, float], path: Path) -> None:
    with figure(path, 1, 2, figsize=(13, 4.8), gridspec_kw={"width_ratios": [2, 1]}) as (ax1, ax2):
        for lat in decisions:
            data = sorted(lat.samples_us)
            n = len(data)
            ax1.plot(data, [i / n for i in range(n)], label=lat.name, linewidth=1.2)
        ax1.axvline(
            TARGET_P99_US, color="red", linestyle="--", linewidth=1, label="p99 target 50 µs"
        )
        ax1.axhline(0.99, color="grey", linestyle=":", linewidth=1)
        ax1.set_xscale("log")
        ax1.set_xlabel("decide() latency, µs (log)")
        ax1.set_ylabel("fraction of calls")
        ax1.set_title("Policy decision latency (CDF)")
        ax1.legend(fontsize=7, loc="lower right")
        ax2.bar(
            ["append", "verify"],
            [audit["append_per_s"], audit["verify_per_s"]],
            color=["#4c72b0", "#55a868"],
        )
        ax2.set_ylabel("records / s")
        ax2.set_title(f"Audit chain, {int(audit['records']):,} records")
