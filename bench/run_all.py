"""Regenerate every file in bench/results, each stamped with where it was measured.

    .venv/bin/python -m bench.run_all [--only NAME ...] [--quick]   (or bench/run-all)

Runs the benchmarks one after another (never side by side: they measure the
same two cores), in the order below. Every results file a benchmark wrote
gets, under its title, one line with the commit, the machine and the 1-minute
load average at that benchmark's start and end, so a figure can be judged
against the load it was taken under. ``--quick`` passes the benchmarks' own
``--quick`` where they have one. A benchmark that fails is reported and the
rest still run; the exit status says whether all succeeded.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from bench.publish import RESULTS, machine

ROOT = Path(__file__).resolve().parents[1]
# name -> extra arguments for a quick run ([] when the benchmark has no quick mode)
BENCHMARKS: dict[str, list[str]] = {
    "diagnosis": [],
    "corpus": [],  # scores the committed bundles: `score` is added below
    "policy": [],
    "tokens": [],
    "metrics": [],
    "storm": [],
    "chart": [],
    "gateway": [],
    "sources": [],
    "alerts": ["--quick"],
    "control_plane": ["--quick"],
    "startup": ["--quick"],
    "replicas": ["--quick"],
    "console": [],
    "k8s": [],
    "kueue": [],
    "realpod": [],
}
_STAMP = "_Stamped by bench/run_all: "


def commit() -> str:
    out = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    )
    dirty = subprocess.run(
        ["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    return (out.stdout.strip() or "unknown") + (" (with uncommitted changes)" if dirty else "")


def stamp(path: Path, line: str) -> None:
    """Put ``line`` under the file's title, replacing an earlier stamp."""
    rows = [r for r in path.read_text().splitlines() if not r.startswith(_STAMP)]
    at = 1 if rows and rows[0].startswith("#") else 0
    rows[at:at] = ["", line] if at else [line, ""]
    path.write_text("\n".join(rows).replace("\n\n\n", "\n\n") + "\n")


def run(name: str, quick: bool, sha: str) -> bool:
    argv = [sys.executable, "-m", f"bench.{name}"]
    argv += ["score"] if name == "corpus" else []
    argv += BENCHMARKS[name] if quick else []
    started, load0 = time.time(), os.getloadavg()[0]
    print(f"==> {' '.join(argv[1:])}", flush=True)
    ok = subprocess.run(argv, cwd=ROOT).returncode == 0
    load1 = os.getloadavg()[0]
    line = (
        f"{_STAMP}commit {sha}; {machine()}; load average (1 min) {load0:.2f} at the start, "
        f"{load1:.2f} at the end; `python {' '.join(argv[1:])}`._"
    )
    for path in sorted(RESULTS.glob("*.md")):
        if path.stat().st_mtime >= started:
            stamp(path, line)
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=sorted(BENCHMARKS), default=None)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    sha = commit()
    failed = [n for n in args.only or list(BENCHMARKS) if not run(n, args.quick, sha)]
    print("all benchmarks ran" if not failed else f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
