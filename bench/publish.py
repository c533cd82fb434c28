"""What every benchmark publishes: its Markdown report and its chart in bench/results.

The runners measure different things but write them the same way; this keeps
the file names, the machine line, the percentile rule and the chart settings
(off-screen backend, tight layout, 110 dpi) in one place.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


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
