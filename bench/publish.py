"""What every benchmark publishes: its Markdown report and its chart in bench/results.

The runners measure different things but write them the same way; this keeps
the file names, the machine line, the percentile rule, the target table (each
target beside its measured value, a miss marked) and the chart settings
(off-screen backend, tight layout, 110 dpi) in one place.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
NO_TARGET = "no target set (reference measurement)"


def machine() -> str:
    return f"{os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"


def percentile(values: Sequence[float], q: float) -> float:
    """The sample nearest the ``q`` quantile (0..1) of the sorted values; 0.0 for none."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0.0


def timestamp(value: str | None) -> float:
    """Seconds since the epoch of an ISO time the API returned (it must be there)."""
    assert value is not None
    return datetime.fromisoformat(value).timestamp()


def write_report(name: str, lines: Sequence[str]) -> str:
    """``bench/results/<name>.md`` from its lines; returns the text for the console."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    text = "\n".join(lines) + "\n"
    (RESULTS / f"{name}.md").write_text(text)
    return text


@dataclass(frozen=True)
class Check:
    """One row of a report's target table: what was asked, what was measured, whether it held.

    ``met`` is computed by the runner from the measured value, so a report can
    never claim a target its own numbers miss; ``None`` marks a reference row.
    """

    target: str
    value: str
    met: bool | None


def reference(value: str) -> Check:
    """A row for a figure no issue or document sets a target for."""
    return Check(NO_TARGET, value, None)


def mark(met: bool | None) -> str:
    return "-" if met is None else "met" if met else "**missed**"


def target_table(checks: Sequence[Check]) -> list[str]:
    """The ``| target | value | |`` table every report ends its figures with."""
    return [
        "| target | value | |",
        "|---|---|---|",
        *(f"| {c.target} | {c.value} | {mark(c.met)} |" for c in checks),
    ]


def missed(checks: Sequence[Check]) -> list[Check]:
    """The checks whose measured value misses its target."""
    return [c for c in checks if c.met is False]


@contextmanager
def figure(path: Path, *grid: int, dpi: int = 110, **subplots: Any) -> Iterator[Any]:
    """The axes of a new chart (``grid``: rows, columns), saved to ``path`` on exit."""
    import matplotlib

    matplotlib.use("Agg")  # benchmark machines have no display
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(*grid, **subplots)
    yield axes
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
