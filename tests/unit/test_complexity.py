"""No function is too branchy to read: radon grades every block of src/nightshift
D or better (cyclomatic complexity at most 30), as issue 18 asked. A function
that grows past it is split into named steps or a dispatch table."""

from __future__ import annotations

from pathlib import Path

from radon.complexity import cc_rank, cc_visit  # type: ignore[import-untyped]

SOURCE = Path(__file__).resolve().parents[2] / "src" / "nightshift"
MAX_COMPLEXITY = 30  # the top of grade D; E starts at 31


def too_complex(code: str) -> list[tuple[str, int, int]]:
    """(name, line, complexity) of each function, method or class graded E or F."""
    return [
        (block.fullname, block.lineno, block.complexity)
        for block in cc_visit(code)
        if block.complexity > MAX_COMPLEXITY
    ]


def test_a_block_with_31_paths_is_graded_too_complex() -> None:
    branches = "\n".join(f"    if x == {i}:\n        return {i}" for i in range(30))
    assert too_complex(f"def f(x):\n{branches}\n    return -1\n") == [("f", 1, 31)]
    assert too_complex("def g(x):\n    return x\n") == []


def test_every_function_is_graded_d_or_better() -> None:
    offenders = [
        f"{path.relative_to(SOURCE.parent)}:{line} {name} {cc_rank(cc)} ({cc})"
        for path in sorted(SOURCE.rglob("*.py"))
        for name, line, cc in too_complex(path.read_text(encoding="utf-8"))
    ]
    assert not offenders, "split these into named steps:\n" + "\n".join(offenders)
