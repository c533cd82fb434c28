"""Whole investigations, raw against governed, on two workloads.

- **Replay** (the worst case): the offline reasoner over the recorded HolmesGPT
  fixtures; every answer comes back in microseconds, so governance's share is as
  large as it can be.
- **Live**: the same reasoner against a real kube-apiserver (with controller-manager,
  scheduler and KWOK), on faults staged there the way bench.corpus stages them; every
  answer is an API read, as in a worker investigating a cluster.

The governed side is governance as a worker runs it (``WorkerGovernance``): the
policy decision, the chain's budget and call-rate window, and an audit record of
every decision, drained as the worker drains it.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from nightshift.agent.tools.governed import GovernedToolset
from nightshift.agent.tools.protocol import Toolset
from nightshift.runtime.worker_policy import WorkerGovernance

# A side of each round; "governed, timed" also times the wrapper from inside.
SIDES = ("raw", "raw again", "governed", "governed, timed")


@dataclass(frozen=True)
class Case:
    request: Any  # an InvestigationRequest
    toolset: Callable[[], Toolset]  # a fresh one per run, as each worker builds its own


def compare(
    cases: Sequence[Case],
    rounds: int,
    governance: Callable[[], WorkerGovernance],
    timed: Callable[[Any, Callable[[Any], Any]], tuple[Any, Any]],
    counting: Callable[[Any], Any],
) -> dict[str, float]:
    """Each case ``rounds`` times per side, the sides rotated within each round.

    Three measures: the paired difference (per case, the median over rounds of each
    governed run against the raw run beside it, weighted by raw time), beside the same
    for two identical raw sides (the noise; the target is held to their sum); the
    difference of the fastest runs each way; and what the governed calls spent inside
    the wrapper, as a share of the timed runs' wall time (it errs high)."""
    from nightshift.agent.investigation import investigate

    denied = 0
    drained: list[WorkerGovernance] = []
    attributed_ns = governed_wall_ns = 0
    paired = {"raw again": 0.0, "governed": 0.0, "weight": 0.0}

    def governed(inner: Any) -> GovernedToolset:
        one = governance()
        drained.append(one)
        return one.wrap(inner)

    def drain() -> None:
        # The worker drains after every event; once per investigation is the same work.
        nonlocal denied
        for one in drained:
            for record in one.drain():
                denied += record.data["decision"]["outcome"] != "allow"
        drained.clear()

    async def run(case: Case, side: str) -> float:
        nonlocal attributed_ns, governed_wall_ns
        toolset: Any = case.toolset()
        inside: Any = None
        if side == "governed":
            toolset = governed(toolset)
        elif side == "governed, timed":
            toolset, inside = timed(toolset, governed)
        gc.collect()  # neither side pays for the other's garbage
        t0 = time.perf_counter_ns()
        await investigate(case.request, toolset)
        drain()
        wall = time.perf_counter_ns() - t0
        if inside is not None:
            attributed_ns += toolset.ns - inside.ns
            governed_wall_ns += wall
        return wall / 1e9

    async def run_all() -> tuple[int, dict[str, float]]:
        # The timed side is apart so that the difference of fastest runs compares
        # the governed toolset as it runs in a worker, without the timers.
        fastest = dict.fromkeys(SIDES, 0.0)
        calls = 0
        for case in cases:
            count = counting(case.toolset())
            await investigate(case.request, count)  # warm, and count the calls
            calls += count.calls
            runs: dict[str, list[float]] = {side: [] for side in SIDES}
            for i in range(rounds):
                for side in SIDES[i % 4 :] + SIDES[: i % 4]:  # rotate who runs first
                    runs[side].append(await run(case, side))
            for side, times in runs.items():
                fastest[side] += min(times)
            # Paired: each run against the raw run of its own round (the same
            # moment's machine), the median over rounds, weighted by raw time.
            weight = min(runs["raw"])
            for side in ("raw again", "governed"):
                ratios = [s / r for s, r in zip(runs[side], runs["raw"], strict=True)]
                paired[side] += weight * (statistics.median(ratios) - 1.0)
            paired["weight"] += weight
        return calls, fastest

    calls, fastest = asyncio.run(run_all())
    raw = fastest["raw"]
    return {
        "cases": float(len(cases)),
        "rounds": float(rounds),
        "calls": float(calls),
        "raw_s": raw,
        "governed_s": fastest["governed"],
        "overhead_pct": (fastest["governed"] - raw) / raw * 100.0,
        "noise_pct": (fastest["raw again"] - raw) / raw * 100.0,
        "paired_overhead_pct": paired["governed"] / paired["weight"] * 100.0,
        "paired_noise_pct": paired["raw again"] / paired["weight"] * 100.0,
        "attributed_pct": attributed_ns / governed_wall_ns * 100.0,
        "attributed_us_per_call": attributed_ns / 1e3 / (calls * rounds),
        "denied": float(denied),
    }


def replay_cases(limit: int) -> list[Case] | str:
    """The dev corpus's fixtures, or why there are none."""
    from bench.diagnosis import dev_corpus
    from nightshift.agent.tools.holmes_fixtures import HolmesFixtureToolset

    corpus = dev_corpus.DEFAULT_CORPUS
    if not corpus.exists():
        return f"skipped: no corpus at {corpus}"
    loaded = dev_corpus.load_cases(corpus)[0][:limit]
    if not loaded:
        return "skipped: no runnable cases"
    return [
        Case(c.request, lambda path=c.path: HolmesFixtureToolset(path))  # type: ignore[misc]
        for c in loaded
    ]


@contextlib.contextmanager
def live_cases(limit: int, settle: float = 20.0) -> Iterator[list[Case]]:
    """Namespaced faults of bench.corpus, one per fault type, staged on a real control
    plane and left to settle; each case reads it through the Kubernetes toolset."""
    from bench.corpus.generate import plan_cases
    from bench.corpus.stage import control_plane, stage_namespaced
    from nightshift.agent.request import InvestigationRequest
    from nightshift.k8s.toolset import KubernetesToolset

    now = datetime.now(UTC) + timedelta(seconds=settle * 1.5 + 20)
    chosen: dict[str, Any] = {}
    for case in plan_cases(now):
        if case.split == "dev" and case.built.plan.node_fault is None:
            chosen.setdefault(case.fault_type, case)
    staged = list(chosen.values())[:limit]
    with (
        tempfile.TemporaryDirectory(prefix="bench-policy-") as tmp,
        control_plane(Path(tmp), staged) as cp,
    ):
        api = cp.admin()
        stage_namespaced(api, staged, settle)
        yield [
            Case(
                InvestigationRequest(question=c.built.question, namespace=c.variant.ns),
                lambda ns=c.variant.ns: KubernetesToolset(api, [ns]),  # type: ignore[misc]
            )
            for c in staged
        ]
