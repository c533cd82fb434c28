"""Writing benchmark results: a markdown table and a PNG plot."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Row:
    corpus: str
    case: str
    top1: bool
    top3: bool
    top_fault: str
    outcome: str
    cycles: int
    tool_calls: int
    wall_ms: float
    cpu_ms_max: float


def accuracy(rows: Sequence[Row]) -> tuple[float, float]:
    if not rows:
        return 0.0, 0.0
    return sum(r.top1 for r in rows) / len(rows), sum(r.top3 for r in rows) / len(rows)


def markdown(rows: Sequence[Row], notes: Sequence[str]) -> str:
    out = ["# Diagnosis benchmark", ""]
    for corpus in sorted({r.corpus for r in rows}):
        sub = [r for r in rows if r.corpus == corpus]
        t1, t3 = accuracy(sub)
        out.append(f"- **{corpus}**: {len(sub)} cases, top-1 {t1:.0%}, top-3 {t3:.0%}")
    out += ["", *[f"- {n}" for n in notes], ""]
    out.append(
        "| corpus | case | top-1 | top-3 | top fault | outcome | cycles | tool calls "
        "| wall ms | max reasoner CPU ms/cycle |"
    )
    out.append("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        out.append(
            f"| {r.corpus} | {r.case} | {'yes' if r.top1 else 'no'} | {'yes' if r.top3 else 'no'} "
            f"| {r.top_fault} | {r.outcome} | {r.cycles} | {r.tool_calls} "
            f"| {r.wall_ms:.1f} | {r.cpu_ms_max:.2f} |"
        )
    return "\n".join(out) + "\n"


def plot(rows: Sequence[Row], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    corpora = sorted({r.corpus for r in rows})
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    acc = [accuracy([r for r in rows if r.corpus == c]) for c in corpora]
    x = range(len(corpora))
    axes[0].bar([i - 0.2 for i in x], [a[0] for a in acc], width=0.4, label="top-1")
    axes[0].bar([i + 0.2 for i in x], [a[1] for a in acc], width=0.4, label="top-3")
    axes[0].set_xticks(list(x), corpora)
    axes[0].set_ylim(0, 1)
    axes[0].set_title("accuracy")
    axes[0].legend()
    for c in corpora:
        sub = [r for r in rows if r.corpus == c]
        axes[1].scatter([r.tool_calls for r in sub], [r.cycles for r in sub], label=c, alpha=0.7)
    axes[1].set_xlabel("tool calls")
    axes[1].set_ylabel("cycles")
    axes[1].set_title("effort per case")
    axes[1].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
