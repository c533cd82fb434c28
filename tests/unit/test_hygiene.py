"""Unit tests assert behaviour, not speed: no assertion on a clock reading.

A bound on elapsed time passes or fails by the machine's load (2 shared
cores in CI). Waiting for something with a deadline is fine (``assert
time.monotonic() < deadline`` fails a stuck wait, it measures nothing);
timing bounds belong in tests/integration or bench/.
"""

from __future__ import annotations

import ast
from pathlib import Path

UNIT = Path(__file__).resolve().parent
CLOCKS = {
    "monotonic", "perf_counter", "time", "monotonic_ns", "perf_counter_ns", "time_ns",
    "process_time", "thread_time",  # CPU budgets are benchmarks too (flaky under load)
}  # fmt: skip


def _reads_a_clock(node: ast.AST) -> bool:
    return any(
        isinstance(n, ast.Call)
        and isinstance(n.func, ast.Attribute)
        and n.func.attr in CLOCKS
        and isinstance(n.func.value, ast.Name)
        and n.func.value.id == "time"
        for n in ast.walk(node)
    )


def _is_a_deadline_wait(test: ast.AST) -> bool:
    return any(isinstance(n, ast.Name) and "deadline" in n.id for n in ast.walk(test))


def _timing_assertions(path: Path, root: Path = UNIT) -> list[str]:
    tree = ast.parse(path.read_text())
    timed = {
        t.id
        for n in ast.walk(tree)
        if isinstance(n, ast.Assign) and _reads_a_clock(n.value)
        for t in n.targets
        if isinstance(t, ast.Name) and "deadline" not in t.id
    }
    found = []
    for n in ast.walk(tree):
        if not isinstance(n, ast.Assert) or _is_a_deadline_wait(n.test):
            continue
        names = {m.id for m in ast.walk(n.test) if isinstance(m, ast.Name)}
        if _reads_a_clock(n.test) or names & (timed | {"elapsed"}):
            found.append(f"{path.relative_to(root)}:{n.lineno}")
    return found


def test_no_unit_test_asserts_on_elapsed_time() -> None:
    found = [hit for path in sorted(UNIT.rglob("*.py")) for hit in _timing_assertions(path)]
    assert found == [], f"wall-clock assertions in unit tests: {found}"


def test_the_check_finds_a_timing_bound(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import time\n"
        "started = time.perf_counter()\n"
        "assert time.perf_counter() - started < 1.5\n"
        "elapsed = 2\n"
        "assert elapsed < 3\n"
        "deadline = time.monotonic() + 5\n"
        "assert time.monotonic() < deadline\n"
    )
    assert _timing_assertions(sample, tmp_path) == ["sample.py:3", "sample.py:5"]
