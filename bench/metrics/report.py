"""Markdown and PNG for the observability benchmark."""

from __future__ import annotations

import os
import platform
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.publish import Check, figure, mark, reference, target_table

TARGET_US = 5.0  # issue 9: metric overhead per tool call


@dataclass(frozen=True)
class Measure:
    name: str
    samples_us: Sequence[float]  # mean µs per call, one value per repeat

    @property
    def median(self) -> float:
        return statistics.median(self.samples_us)

    @property
    def spread(self) -> tuple[float, float]:
        return min(self.samples_us), max(self.samples_us)


def checks(
    measures: Sequence[Measure], spans: Sequence[Measure], scrape_ms: Sequence[float]
) -> list[Check]:
    """Issue 9's target on a plain and a governed tool call; tracing and /metrics are reference."""
    floor, per_call = measures[0].median, measures[2].median
    governed = per_call + measures[3].median - floor
    return [
        Check(
            f"metric overhead per tool call < {TARGET_US:g} µs",
            f"{per_call:.2f} µs",
            per_call < TARGET_US,
        ),
        Check(
            f"metric overhead per governed tool call (+ policy.decision) < {TARGET_US:g} µs",
            f"{governed:.2f} µs",
            governed < TARGET_US,
        ),
        reference(f"execute_tool span, tracing on: +{spans[1].median - spans[0].median:.1f} µs"),
        reference(f"/metrics render: median {statistics.median(scrape_ms):.2f} ms"),
    ]


def markdown(
    measures: Sequence[Measure], spans: Sequence[Measure], scrape_ms: Sequence[float], series: int
) -> str:
    floor = measures[0].median
    lines = [
        "# Observability benchmark",
        "",
        f"Generated {datetime.now(UTC):%Y-%m-%d %H:%M UTC} with `.venv/bin/python -m bench.metrics`"
        f" on Python {platform.python_version()} ({platform.machine()}, {os.cpu_count()} CPUs)."
        f" Target: metric overhead per tool call < {TARGET_US:g} µs.",
        "",
        "## Metrics per event (control plane, in the event observer)",
        "",
        "Mean time per call over a batch, median and range of the repeats; the loop floor",
        "(an empty call) is included in every row, not subtracted.",
        "",
        f"| what | median µs | min-max µs | < {TARGET_US:g} µs |",
        "|---|---:|---:|---|",
    ]
    for m in measures:
        lo, hi = m.spread
        if m is measures[0]:
            ok = ""
        elif "llm.call" in m.name:
            ok = "n/a: once per model call (~1 s each)"
        else:
            ok = mark(m.median < TARGET_US)

        lines.append(f"| {m.name} | {m.median:.2f} | {lo:.2f}-{hi:.2f} | {ok} |")
    per_call = measures[2].median
    lines += [
        "",
        f"**Metric overhead per tool call: {per_call:.2f} µs** (the observer hook for one",
        f"`tool.answered` event; {per_call - floor:.2f} µs above the loop floor). A tool call",
        "also produces a `policy.decision` event when the toolset is governed, so a governed call",
        f"costs about {per_call + measures[3].median - floor:.2f} µs of metrics in total.",
        "",
        "## Tracing per tool call (worker, `execute_tool` span; off by default)",
        "",
        "| what | median µs | min-max µs |",
        "|---|---:|---:|",
    ]
    for m in spans:
        lo, hi = m.spread
        lines.append(f"| {m.name} | {m.median:.2f} | {lo:.2f}-{hi:.2f} |")
    lines += [
        "",
        f"A span adds {spans[1].median - spans[0].median:.1f} µs per call (in-memory exporter;",
        "OTLP export is batched off the call path). Tool calls take milliseconds to seconds.",
        "",
        "## Rendering /metrics",
        "",
        f"{series} series: median {statistics.median(scrape_ms):.2f} ms per render "
        f"(min {min(scrape_ms):.2f}, max {max(scrape_ms):.2f}); the database gauges are read on",
        "top of this at scrape time (a handful of grouped queries; gate reports cached).",
        "",
        "## Targets",
        "",
        *target_table(checks(measures, spans, scrape_ms)),
        "",
    ]
    return "\n".join(lines)


def plot(measures: Sequence[Measure], spans: Sequence[Measure], path: Path) -> None:
    with figure(path, 1, 2, figsize=(11, 4)) as (left, right):
        names = [m.name for m in measures]
        left.barh(names, [m.median for m in measures], color="#4c72b0")
        left.axvline(TARGET_US, color="#c44e52", linestyle="--", label=f"target {TARGET_US:g} µs")
        left.set_xlabel("µs per event (median of repeats)")
        left.set_title("Metrics per event")
        left.invert_yaxis()
        left.legend(loc="lower right")
        right.bar([m.name for m in spans], [m.median for m in spans], color=["#8c8c8c", "#dd8452"])
        right.set_ylabel("µs per tool call")
        right.set_title("execute_tool span (tracing on)")
