"""Every source kind's tool latency against its real server, in one table.

    .venv/bin/python -m bench.sources [--out bench/results] [--only KIND ...]

Imports each ``bench/sources/<kind>.py`` that defines ``measure()``; a module
whose server cannot be started here reports why instead of a row.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import traceback
from pathlib import Path

from bench.publish import Check, figure, reference, target_table
from bench.sources.common import Row

_SKIP = {"common", "__main__"}


def _modules(only: set[str]) -> list[str]:
    here = Path(__file__).parent
    names = sorted(m.name for m in pkgutil.iter_modules([str(here)]) if m.name not in _SKIP)
    return [n for n in names if not only or n in only]


def _table(rows: list[Row]) -> str:
    lines = [
        "| kind | tool | case | samples | p50 ms | p95 ms | note |",
        "|---|---|---|---:|---:|---:|---|",
    ]
    for r in rows:
        cells = [r.kind, r.tool, r.case, str(r.samples), f"{r.p50_ms:.1f}", f"{r.p95_ms:.1f}"]
        lines.append("| " + " | ".join([*cells, r.note]) + " |")
    return "\n".join(lines)


def checks(rows: list[Row]) -> list[Check]:
    """Issue 12 asks for each tool's p50/p95 and the governed share, with no target."""
    if not rows:
        return []
    slowest = max(rows, key=lambda r: r.p95_ms)
    return [
        reference(
            f"tool latency, slowest p95 of {len(rows)} rows: {slowest.p95_ms:.1f} ms "
            f"({slowest.kind} {slowest.tool}, {slowest.case})"
        ),
        *(
            reference(f"{r.kind} {r.tool}, {r.case}: {r.note}")
            for r in rows
            if "governed" in r.case
        ),
    ]


def _plot(rows: list[Row], path: Path) -> None:
    labels = [f"{r.kind}\n{r.tool}\n{r.case}" for r in rows]
    with figure(path, figsize=(max(6.0, 1.3 * len(rows)), 4.5), dpi=120) as ax:
        xs = range(len(rows))
        ax.bar([x - 0.2 for x in xs], [r.p50_ms for r in rows], width=0.4, label="p50")
        ax.bar([x + 0.2 for x in xs], [r.p95_ms for r in rows], width=0.4, label="p95")
        ax.set_xticks(list(xs), labels, fontsize=7)
        ax.set_ylabel("ms per call")
        ax.set_title("Evidence source tool latency (real servers on 127.0.0.1)")
        ax.legend()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sources")
    parser.add_argument("--out", type=Path, default=Path("bench/results"))
    parser.add_argument("--only", nargs="*", default=[])
    args = parser.parse_args(argv)
    rows: list[Row] = []
    problems: list[str] = []
    for name in _modules(set(args.only)):
        module = importlib.import_module(f"bench.sources.{name}")
        measure = getattr(module, "measure", None)
        if measure is None:
            continue
        print(f"==> {name}", file=sys.stderr)
        try:
            rows.extend(measure())
        except Exception as exc:  # one missing server must not hide the others' numbers
            traceback.print_exc()
            problems.append(f"- {name}: {type(exc).__name__}: {exc}")
    table = _table(rows)
    print(table)
    args.out.mkdir(parents=True, exist_ok=True)
    text = "# Evidence sources: tool latency against real servers\n\n" + table + "\n"
    if rows:
        text += "\n" + "\n".join(target_table(checks(rows))) + "\n"
    if problems:
        text += "\nNot measured:\n\n" + "\n".join(problems) + "\n"
    (args.out / "sources.md").write_text(text, encoding="utf-8")
    if rows:
        _plot(rows, args.out / "sources.png")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
