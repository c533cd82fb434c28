"""``python -m bench.corpus score``: replay every bundle through the offline reasoner and
score it per split against the issue's targets; writes bench/results/corpus.md and .png.

Scores, each of the top entry unless said: fault@1 (fault id), object@1 (kind and
name exact, or a declared alternative object), A@1 (both on the top entry), A@3
(both on one of the top three), and the share of runs that end confirmed
(outcome ``diagnosed``) rather than exhausted. Reasoner cost: CPU per cycle and
wall time per case.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.corpus.bundle import Bundle, load_all
from bench.publish import figure
from nightshift.agent.investigation import investigate
from nightshift.agent.request import InvestigationRequest
from nightshift.domain.diagnosis import Diagnosis, RootCause

TARGETS = {"A@1": 0.85, "A@3": 0.95, "object@1": 0.90, "confirmed": 0.70}


@dataclass(frozen=True)
class Result:
    id: str
    split: str
    category: str
    fault_type: str
    fault1: bool
    object1: bool
    a1: bool
    a3: bool
    confirmed: bool
    cpu_per_cycle_ms: float
    wall_s: float
    top: str


def request_for(b: Bundle) -> InvestigationRequest:
    return InvestigationRequest(
        question=str(b.truth["question"]), namespace=str(b.truth["namespace"])
    )


def _objects(b: Bundle) -> set[str]:
    truth = b.truth["truth"]
    return {str(truth["object"]), *[str(o) for o in truth.get("alternative_objects") or []]}


def _hit(c: RootCause, fault: str, objects: set[str]) -> tuple[bool, bool]:
    return c.fault == fault, f"{c.resource.kind}/{c.resource.name}" in objects


async def run_one(b: Bundle) -> tuple[Diagnosis, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    diagnosis = await investigate(request_for(b), b.replay())
    return diagnosis, time.process_time() - cpu, time.perf_counter() - wall


def score_one(b: Bundle) -> Result:
    diagnosis, cpu, wall = asyncio.run(run_one(b))
    fault, objects = str(b.truth["truth"]["fault"]), _objects(b)
    hits = [_hit(c, fault, objects) for c in diagnosis.root_causes[:3]]
    top = diagnosis.top
    return Result(
        id=b.id,
        split=str(b.truth["split"]),
        category=str(b.truth["truth"]["category"]),
        fault_type=str(b.truth["fault_type"]),
        fault1=bool(hits) and hits[0][0],
        object1=bool(hits) and hits[0][1],
        a1=bool(hits) and all(hits[0]),
        a3=any(all(h) for h in hits),
        confirmed=diagnosis.outcome.value == "diagnosed",
        cpu_per_cycle_ms=1000 * cpu / max(diagnosis.cycles, 1),
        wall_s=wall,
        top=f"{top.fault} {top.resource.kind}/{top.resource.name}" if top else "-",
    )


def rates(rows: Sequence[Result]) -> dict[str, float]:
    n = max(len(rows), 1)
    return {
        "fault@1": sum(r.fault1 for r in rows) / n,
        "object@1": sum(r.object1 for r in rows) / n,
        "A@1": sum(r.a1 for r in rows) / n,
        "A@3": sum(r.a3 for r in rows) / n,
        "confirmed": sum(r.confirmed for r in rows) / n,
    }


def _mark(metric: str, value: float) -> str:
    target = TARGETS.get(metric)
    if target is None:
        return f"{value:.2f}"
    return f"{value:.2f} {'✅' if value >= target else '❌'} (≥ {target:.2f})"


def report(rows: Sequence[Result], corpus: Path) -> str:
    splits = {s: [r for r in rows if r.split == s] for s in ("dev", "val")}
    lines = [
        "# Real-cluster fault corpus: offline reasoner",
        "",
        f"Bundles: `{corpus}` ({len(rows)} cases; dev {len(splits['dev'])}, "
        f"validation {len(splits['val'])}), recorded on the test control plane "
        "(kube-apiserver, controller-manager, scheduler, KWOK) by "
        "`python -m bench.corpus generate`; scored by `python -m bench.corpus score`.",
        "Targets are the issue's, for the validation split.",
        "",
        "| split | cases | fault@1 | object@1 | A@1 | A@3 | confirmed |",
        "|---|---|---|---|---|---|---|",
    ]
    for split, items in splits.items():
        r = rates(items)
        cells = [_mark(m, r[m]) for m in ("fault@1", "object@1", "A@1", "A@3", "confirmed")]
        lines.append(f"| {split} | {len(items)} | " + " | ".join(cells) + " |")
    cpu = sorted(r.cpu_per_cycle_ms for r in rows)
    wall = sorted(r.wall_s for r in rows)
    if rows:
        lines += [
            "",
            f"Reasoner cost: CPU per cycle p50 {cpu[len(cpu) // 2]:.1f} ms, max {cpu[-1]:.1f} ms "
            f"(target < 50 ms); wall per case p50 {wall[len(wall) // 2]:.2f} s, "
            f"max {wall[-1]:.2f} s (target < 1 s).",
        ]
    lines += [
        "",
        "## By category (both splits)",
        "",
        "| category | cases | fault@1 | object@1 | A@1 | A@3 | confirmed |",
        "|---|---|---|---|---|---|---|",
    ]
    by_cat: dict[str, list[Result]] = defaultdict(list)
    for r in rows:
        by_cat[r.category].append(r)
    for cat, items in sorted(by_cat.items()):
        r = rates(items)
        lines.append(
            f"| {cat} | {len(items)} | "
            + " | ".join(f"{r[m]:.2f}" for m in ("fault@1", "object@1", "A@1", "A@3", "confirmed"))
            + " |"
        )
    lines += ["", "## Development cases missed (A@1)", "", "| case | top answer |", "|---|---|"]
    lines += [f"| {r.id} | {r.top} |" for r in rows if r.split == "dev" and not r.a1]
    return "\n".join(lines) + "\n"


def plot(rows: Sequence[Result], path: Path) -> None:
    metrics = ["fault@1", "object@1", "A@1", "A@3", "confirmed"]
    with figure(path, figsize=(8, 4)) as ax:
        width = 0.38
        for i, split in enumerate(("dev", "val")):
            r = rates([x for x in rows if x.split == split])
            xs = [j + (i - 0.5) * width for j in range(len(metrics))]
            ax.bar(xs, [r[m] for m in metrics], width, label=split)
        for j, m in enumerate(metrics):
            if m in TARGETS:
                ax.hlines(TARGETS[m], j - 0.45, j + 0.45, colors="black", linestyles="dashed")
        ax.set_xticks(range(len(metrics)), metrics)
        ax.set_ylim(0, 1)
        ax.set_title("Offline reasoner on the real-cluster corpus (dashed: validation targets)")
        ax.legend()


def main(corpus: Path, out: Path) -> int:
    bundles = list(load_all(corpus))
    if not bundles:
        raise SystemExit(f"no bundles under {corpus}: run `python -m bench.corpus generate` first")
    rows = [score_one(b) for b in bundles]
    out.mkdir(parents=True, exist_ok=True)
    (out / "corpus.md").write_text(report(rows, corpus), "utf-8")
    plot(rows, out / "corpus.png")
    for split in ("dev", "val"):
        r = rates([x for x in rows if x.split == split])
        print(split, " ".join(f"{k}={v:.2f}" for k, v in r.items()))
    return 0
