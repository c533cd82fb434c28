"""Writing benchmark results: markdown tables (each with its target) and a PNG plot."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.publish import figure

# The scenario corpus target (issue 14): object and fault right together at rank 1.
TARGET_A1 = 0.90
# Reasoner cost targets: CPU per cycle and wall time per case.
TARGET_CPU_MS = 50.0
TARGET_WALL_MS = 1000.0
BUCKETS = ((0.0, 0.5), (0.5, 0.7), (0.7, 0.85), (0.85, 0.95), (0.95, 1.01))


@dataclass(frozen=True, slots=True)
class Row:
    corpus: str
    case: str
    a1: bool  # fault and object right at rank 1 (dev corpus: the rubric at rank 1)
    a3: bool
    fault1: bool | None  # None where the corpus states no ground-truth fault id
    object1: bool | None  # None where the corpus states no ground-truth object
    top: str  # "Kind/name fault" of rank 1
    confidence: float
    outcome: str
    cycles: int
    tool_calls: int
    wall_ms: float
    cpu_ms_max: float


def share(values: Sequence[bool | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) / len(known) if known else None


def accuracy(rows: Sequence[Row]) -> tuple[float, float]:
    """(A@1, A@3)."""
    if not rows:
        return 0.0, 0.0
    return sum(r.a1 for r in rows) / len(rows), sum(r.a3 for r in rows) / len(rows)


def percentile(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def _mark(ok: bool) -> str:
    return "met" if ok else "**MISSED**"


def _summary(corpus: str, sub: Sequence[Row]) -> list[str]:
    a1, a3 = accuracy(sub)
    f1, o1 = share([r.fault1 for r in sub]), share([r.object1 for r in sub])
    confirmed = sum(r.outcome == "diagnosed" for r in sub) / len(sub)
    exhausted = sum(r.outcome == "exhausted" for r in sub) / len(sub)
    cpu = max(r.cpu_ms_max for r in sub)
    wall = max(r.wall_ms for r in sub)
    target = f"{TARGET_A1:.2f} ({_mark(a1 >= TARGET_A1)})" if corpus == "scenarios" else "none"
    return [
        f"### {corpus} ({len(sub)} cases)",
        "",
        "| measure | value | target |",
        "|---|---|---|",
        f"| A@1 (fault and object at rank 1) | {a1:.2f} | {target} |",
        f"| A@3 | {a3:.2f} | - |",
        f"| fault@1 | {percentile(f1)} | - |",
        f"| object@1 (kind+name exact or declared alias) | {percentile(o1)} | - |",
        f"| runs ending confirmed (diagnosed) | {confirmed:.0%} | - |",
        f"| runs ending exhausted | {exhausted:.0%} | - |",
        f"| max reasoner CPU per cycle | {cpu:.1f} ms | < {TARGET_CPU_MS:.0f} ms "
        f"({_mark(cpu < TARGET_CPU_MS)}) |",
        f"| max wall time per case | {wall:.0f} ms | < {TARGET_WALL_MS:.0f} ms "
        f"({_mark(wall < TARGET_WALL_MS)}) |",
        "",
    ]


def calibration(rows: Sequence[Row]) -> list[tuple[str, int, float]]:
    """(bucket, runs, share right at rank 1) per confidence bucket of the top entry."""
    out: list[tuple[str, int, float]] = []
    for lo, hi in BUCKETS:
        sub = [r for r in rows if lo <= r.confidence < hi]
        if sub:
            label = f"[{lo:.2f}, {min(hi, 1.0):.2f}{']' if hi > 1 else ')'}"
            out.append((label, len(sub), sum(r.a1 for r in sub) / len(sub)))
    return out


def _calibration(corpus: str, sub: Sequence[Row]) -> list[str]:
    out = [
        f"Calibration, {corpus}: how often the rank-1 answer is right per confidence bucket "
        "(target: reliability within the bucket, higher buckets at least as reliable).",
        "",
        "| top confidence | runs | right at rank 1 |",
        "|---|---|---|",
    ]
    out += [f"| {b} | {n} | {r:.0%} |" for b, n, r in calibration(sub)]
    return [*out, ""]


FLAGSHIP = "two-am-cascade"
FLAGSHIP_CYCLES = 8


def _flagship(sub: Sequence[Row]) -> list[str]:
    """The 2 AM cascade: exactly the change (or its alias), confirmed within 8 cycles."""
    row = next((r for r in sub if r.case == FLAGSHIP), None)
    if row is None:
        return []
    ok = row.a1 and row.outcome == "diagnosed" and row.cycles <= FLAGSHIP_CYCLES
    return [
        f"2 AM cascade: rank 1 `{row.top}` ({row.confidence:.2f}), {row.outcome} after "
        f"{row.cycles} cycles; target: `Change/CHG-20417` or a declared alias, confirmed "
        f"within {FLAGSHIP_CYCLES} cycles ({_mark(ok)}).",
        "",
    ]


def markdown(rows: Sequence[Row], notes: Sequence[str]) -> str:
    out = [
        "# Diagnosis benchmark",
        "",
        "Written by `.venv/bin/python -m bench.diagnosis`. A@1 counts a case when the rank-1",
        "root cause has the right fault (or a declared alternative) on the right resource",
        "(kind and name exact, or one of the scenario's `alternative_resources`). The dev",
        "corpus has no object ground truth: its A@1/A@3 is the keyword rubric.",
        "",
    ]
    for corpus in sorted({r.corpus for r in rows}, reverse=True):
        sub = [r for r in rows if r.corpus == corpus]
        out += _summary(corpus, sub)
        out += _calibration(corpus, sub)
        if corpus == "scenarios":
            out += _flagship(sub)
    out += [*[f"- {n}" for n in notes], ""]
    out.append(
        "| corpus | case | A@1 | A@3 | fault@1 | object@1 | rank 1 | confidence | outcome "
        "| cycles | tool calls | wall ms | max reasoner CPU ms/cycle |"
    )
    out.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|")

    def yn(v: bool | None) -> str:
        return "-" if v is None else ("yes" if v else "**no**")

    for r in rows:
        out.append(
            f"| {r.corpus} | {r.case} | {yn(r.a1)} | {yn(r.a3)} | {yn(r.fault1)} "
            f"| {yn(r.object1)} | {r.top} | {r.confidence:.2f} | {r.outcome} | {r.cycles} "
            f"| {r.tool_calls} | {r.wall_ms:.1f} | {r.cpu_ms_max:.2f} |"
        )
    return "\n".join(out) + "\n"


def plot(rows: Sequence[Row], path: Path) -> None:
    corpora = sorted({r.corpus for r in rows}, reverse=True)
    with figure(path, 1, 3, figsize=(16, 4.5)) as axes:
        labels = ("A@1", "A@3", "fault@1", "object@1")
        width = 0.2
        for i, c in enumerate(corpora):
            sub = [r for r in rows if r.corpus == c]
            a1, a3 = accuracy(sub)
            vals = (a1, a3, share([r.fault1 for r in sub]), share([r.object1 for r in sub]))
            for j, v in enumerate(vals):
                if v is not None:
                    axes[0].bar(i + (j - 1.5) * width, v, width=width, color=f"C{j}",
                                label=labels[j] if i == 0 else None)  # fmt: skip
        axes[0].axhline(TARGET_A1, color="red", linestyle="--", linewidth=1, label="A@1 target")
        axes[0].set_xticks(list(range(len(corpora))), corpora)
        axes[0].set_ylim(0, 1.05)
        axes[0].set_title("accuracy")
        axes[0].legend(fontsize=8)
        for c in corpora:
            cal = calibration([r for r in rows if r.corpus == c])
            mids = [float(b[1:].split(",")[0]) for b, _n, _r in cal]
            axes[1].plot(mids, [r for _b, _n, r in cal], marker="o", label=c)
        axes[1].plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1)
        axes[1].set_xlabel("top confidence (bucket start)")
        axes[1].set_ylabel("right at rank 1")
        axes[1].set_title("calibration")
        axes[1].legend()
        for c in corpora:
            sub = [r for r in rows if r.corpus == c]
            axes[2].scatter(
                [r.tool_calls for r in sub], [r.cycles for r in sub], label=c, alpha=0.7
            )
        axes[2].set_xlabel("tool calls")
        axes[2].set_ylabel("cycles")
        axes[2].set_title("effort per case")
        axes[2].legend()
