"""A range query's series as the compact table the reasoner reads.

The shape is the simulated world's (``query:`` and ``range:`` lines, then one
row per series: its labels and its value at seven evenly spaced moments from
the start of the range to now), with MIN, MAX and a one-word TREND added so a
reader needs no arithmetic to see a spike, a climb or a series that vanished.
Each series is reduced to this summary as it streams in; points are not kept.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from nightshift.agent.tools.columns import table
from nightshift.sources.prometheus_api import Series

COLUMNS = 7


def format_value(value: float | None) -> str:
    if value is None or math.isnan(value):
        return "-"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == 0:
        return "0"
    if abs(value) >= 1000:
        return f"{value:.0f}"
    return f"{value:.4g}"


def duration(seconds: float) -> str:
    s = round(seconds)
    if s and s % 3600 == 0:
        return f"{s // 3600}h"
    if s >= 60 and s % 60 == 0:
        return f"{s // 60}m"
    if s >= 600:
        return f"{round(s / 60)}m"
    if s >= 60:
        return f"{s // 60}m{s % 60}s"
    return f"{s}s"


def series_label(labels: dict[str, str] | Sequence[tuple[str, str]]) -> str:
    items = dict(labels)
    name = items.pop("__name__", "")
    inner = ",".join(f'{k}="{v}"' for k, v in sorted(items.items()))
    return f"{name}{{{inner}}}"


def offsets(range_seconds: float) -> list[float]:
    """Seconds before the end of the range, oldest first, ending at 0 (now)."""
    return [range_seconds * (COLUMNS - 1 - i) / (COLUMNS - 1) for i in range(COLUMNS)]


@dataclass(frozen=True, slots=True)
class SeriesSummary:
    label: str
    samples: tuple[float | None, ...]
    low: float | None
    high: float | None
    trend: str

    @property
    def peak(self) -> float:
        return self.high if self.high is not None and not math.isnan(self.high) else -math.inf


def _trend(values: Sequence[float], last_at: float, end: float, step: float) -> str:
    first, last = values[0], values[-1]
    low, high = min(values), max(values)
    span = max(abs(low), abs(high))
    if span == 0 or (high - low) <= 0.02 * span:
        word = "flat"
    else:
        peak_at = values.index(high)
        edge = max(1, len(values) // 10)
        middle_peak = edge <= peak_at < len(values) - edge
        if middle_peak and high > 0 and max(first, last) < low + 0.5 * (high - low):
            word = "spike"
        elif last > first:
            word = f"rising +{(last - first) / abs(first) * 100:.0f}%" if first else "rising from 0"
        elif last < first:
            word = f"falling {(last - first) / abs(first) * 100:.0f}%" if first else "falling"
        else:
            word = "varying"
    if end - last_at > 2 * step:
        word += f", no data for the last {duration(end - last_at)}"
    return word


def summarize(series: Series, end: float, range_seconds: float, step: float) -> SeriesSummary:
    points = [(t, v) for t, v in series.points if not math.isnan(v)]
    label = series_label(dict(series.labels))
    if not points:
        return SeriesSummary(label, (None,) * COLUMNS, None, None, "no values")
    samples: list[float | None] = []
    for offset in offsets(range_seconds):
        target = end - offset
        near = min(points, key=lambda p: abs(p[0] - target))
        samples.append(near[1] if abs(near[0] - target) <= step else None)
    values = [v for _, v in points]
    trend = _trend(values, points[-1][0], end, step)
    return SeriesSummary(label, tuple(samples), min(values), max(values), trend)


def render(
    query: str,
    range_seconds: float,
    step: float,
    shown: Sequence[SeriesSummary],
    total: int,
) -> str:
    heads = [f"-{duration(o)}" if o else "now" for o in offsets(range_seconds)]
    rows = [
        [
            s.label,
            *(format_value(v) for v in s.samples),
            format_value(s.low),
            format_value(s.high),
            s.trend,
        ]
        for s in sorted(shown, key=lambda s: s.label)
    ]
    minutes = round(range_seconds / 60)
    head = f"query: {query}\nrange: {minutes}m, step {duration(step)}, {total} series"
    if total > len(shown):
        head += f" (showing the {len(shown)} with the highest peaks)"
    return head + "\n" + table(["SERIES", *heads, "MIN", "MAX", "TREND"], rows)
