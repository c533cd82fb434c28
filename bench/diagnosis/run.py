"""Run the diagnosis benchmark: ``python -m bench.diagnosis [--corpus PATH] [--out DIR]``.

Runs the offline reasoner on (a) the simulated scenario corpus and (b) the
HolmesGPT development corpus through the replay adapter; writes
``bench/results/diagnosis.md`` and ``bench/results/diagnosis.png``.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections import Counter
from pathlib import Path

from bench.diagnosis import dev_corpus, scenario_corpus
from bench.diagnosis.report import Row, accuracy, markdown, plot, share
from bench.diagnosis.scenario_corpus import Score
from bench.publish import RESULTS
from nightshift.agent.investigation import investigate
from nightshift.agent.limits import Limits
from nightshift.agent.tools.holmes_fixtures import HolmesFixtureToolset
from nightshift.domain.diagnosis import Diagnosis
from nightshift.domain.vocabulary import Tier


def _row(corpus: str, case: str, d: Diagnosis, hit: Score, wall: float) -> Row:
    top = d.top
    return Row(
        corpus=corpus,
        case=case,
        a1=hit.a1,
        a3=hit.a3,
        fault1=hit.fault1 if corpus == "scenarios" else None,
        object1=hit.object1 if corpus == "scenarios" else None,
        top=f"{top.resource.kind}/{top.resource.name} {top.fault}" if top else "-",
        confidence=top.confidence if top else 0.0,
        outcome=d.outcome.value,
        cycles=d.cycles,
        tool_calls=d.tool_calls,
        wall_ms=wall * 1000,
        cpu_ms_max=float(d.stats.get("reasoner_cpu_ms_max", 0.0)),
    )


async def run(corpus: Path, verbose: bool) -> tuple[list[Row], list[str]]:
    rows: list[Row] = []
    notes: list[str] = []
    scenarios, message = scenario_corpus.load_scenarios()
    notes.append(f"scenario corpus: {message}")
    for sc in scenarios:
        tier = Tier.MULTI_DOMAIN if "multi" in sc.tier else Tier.SINGLE_DOMAIN
        t0 = time.perf_counter()
        d = await investigate(sc.request, sc.toolset, tier=tier, limits=Limits.for_tier(tier))
        rows.append(
            _row(
                "scenarios",
                sc.name,
                d,
                scenario_corpus.score(d, sc.faults, sc.objects),
                time.perf_counter() - t0,
            )
        )
    if corpus.is_dir():  # noqa: ASYNC240 - a one-off check before the runs start
        cases, skipped = dev_corpus.load_cases(corpus)
        reasons = Counter(reason.split(":")[0] for _name, reason in skipped)
        why = ", ".join(f"{n} {r}" for r, n in sorted(reasons.items()))
        notes.append(f"dev corpus: {len(cases)} scored cases; skipped: {why}")
        notes.extend(f"skipped {name}: {reason}" for name, reason in skipped if "scope" in reason)
        for case in cases:
            t0 = time.perf_counter()
            d = await investigate(case.request, HolmesFixtureToolset(case.path))
            top1, top3 = dev_corpus.score(d, case.rubric)
            hit = Score(fault1=top1, object1=top1, a1=top1, a3=top3)
            rows.append(_row("dev", case.name, d, hit, time.perf_counter() - t0))
            if verbose:
                print(case.name, rows[-1].a1, rows[-1].a3, [c.fault for c in d.root_causes[:3]])
    else:
        notes.append(f"dev corpus not found at {corpus}")
    return rows, notes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, default=dev_corpus.DEFAULT_CORPUS)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    rows, notes = asyncio.run(run(args.corpus, args.verbose))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "diagnosis.md").write_text(markdown(rows, notes), encoding="utf-8")
    if rows:
        plot(rows, args.out / "diagnosis.png")
    for note in notes:
        print(note)
    for corpus in sorted({r.corpus for r in rows}):
        sub = [r for r in rows if r.corpus == corpus]
        t1, t3 = accuracy(sub)
        cpu = max(r.cpu_ms_max for r in sub)
        wall = max(r.wall_ms for r in sub)
        f1, o1 = share([r.fault1 for r in sub]), share([r.object1 for r in sub])
        confirmed = sum(r.outcome == "diagnosed" for r in sub) / len(sub)
        extra = ""
        if f1 is not None and o1 is not None:
            extra = f"  fault@1 {f1:.0%}  object@1 {o1:.0%}"
        print(
            f"{corpus}: {len(sub)} cases  A@1 {t1:.0%}  A@3 {t3:.0%}{extra}  "
            f"confirmed {confirmed:.0%}  max reasoner CPU/cycle {cpu:.1f} ms  "
            f"max wall/case {wall:.0f} ms"
        )
    print(f"written: {args.out / 'diagnosis.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
