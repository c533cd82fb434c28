"""What every ``bench/sources/<kind>.py`` module returns, and how it is timed."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Row:
    kind: str  # the source kind, e.g. "victorialogs"
    tool: str  # the catalog tool, e.g. "logs_search"
    case: str  # what was asked, in a few words
    samples: int
    p50_ms: float
    p95_ms: float
    note: str = ""


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, round(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


async def timed(
    call: Callable[[], Awaitable[object]], samples: int, warmup: int = 3
) -> list[float]:
    """Milliseconds of ``samples`` sequential calls, after ``warmup`` untimed ones."""
    for _ in range(warmup):
        await call()
    out: list[float] = []
    for _ in range(samples):
        started = time.perf_counter()
        await call()
        out.append((time.perf_counter() - started) * 1000)
    return out


def row(kind: str, tool: str, case: str, millis: list[float], note: str = "") -> Row:
    return Row(kind, tool, case, len(millis), percentile(millis, 50), percentile(millis, 95), note)
