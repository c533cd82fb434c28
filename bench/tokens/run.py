"""Prompt tokens the agent would send per investigation, by tier.

    .venv/bin/python -m bench.tokens [--out bench/results]

Every scenario of the simulated corpus is investigated four ways through the
public API: the offline reasoner alone (accuracy reference, no tokens); the
hybrid reasoner (default settings); the LLM reasoner in ``llm`` mode (the
model plans every cycle, from the first); and, for scale, a naive ReAct-style
transcript over the same tool calls as the ``llm`` run (one model call per
tool call, each resending the system prompt, the tools and every raw tool
answer so far: how an agent without compaction spends tokens).

The model is ``AnalystModel``, a deterministic stand-in that endorses the
analyzers' ranking and asks for their suggested checks (it stops when the
leader clears 0.85, when nothing is left to ask, or when the leader survived
two rounds unchanged). Its usage is the prompt size under the accounting
estimate (3 characters per token, which overcounts real tokenizers) with the
stable prefix counted as cached after the first call. Accuracy therefore
equals the analyzers'; the benchmark measures what the prompts cost.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.diagnosis.scenario_corpus import ScenarioCase, load_scenarios, score
from bench.tokens.report import markdown, plot
from nightshift.agent.investigation import investigate
from nightshift.agent.reasoners.llm.accounting import estimate_request, estimate_tokens
from nightshift.agent.reasoners.llm.answer import tool_defs
from nightshift.agent.reasoners.llm.config import LLMConfig
from nightshift.agent.reasoners.llm.fake import AnalystModel
from nightshift.agent.reasoners.llm.provider import ChatRequest
from nightshift.agent.reasoners.llm.reasoner import LLMReasoner
from nightshift.agent.reasoners.llm.stream import investigate_reasoned
from nightshift.agent.tools.protocol import ToolCall, ToolResult, Toolset, ToolSpec

# The seed operator's figures (input tokens and model calls per investigation).
SEED = {
    "single-domain": {"tokens": (15_000, 25_000), "calls": (4, 8)},
    "multi-domain": {"tokens": (80_000, 150_000), "calls": (15, 30)},
}


@dataclass(frozen=True, slots=True)
class Run:
    case: str
    tier: str
    mode: str  # offline | hybrid | llm | naive
    top1: bool
    calls: int
    input_tokens: int
    cached_tokens: int
    output_tokens: int
    tool_calls: int


class _Recording:
    """Keeps each raw answer, for the naive-transcript estimate."""

    def __init__(self, inner: Toolset) -> None:
        self.inner = inner
        self.answers: list[str] = []

    def specs(self) -> Sequence[ToolSpec]:
        return self.inner.specs()

    async def call(self, call: ToolCall) -> ToolResult:
        result = await self.inner.call(call)
        self.answers.append(f"{call.name} {dict(call.params)}\n{result.text or result.error}")
        return result


async def run_case(case: ScenarioCase) -> list[Run]:
    offline = await investigate(case.request, case.toolset)
    hit = score(offline, case.faults, case.objects).fault1
    runs = [Run(case.name, case.tier, "offline", hit, 0, 0, 0, 0, offline.tool_calls)]
    for mode in ("hybrid", "llm"):
        model = AnalystModel(model="analyst")
        reasoner = LLMReasoner(model, LLMConfig(mode=mode, token_budget=1_000_000))
        recording = _Recording(case.toolset)
        diagnosis, _ = await investigate_reasoned(case.request, recording, reasoner)
        bill = diagnosis.stats["llm"]
        runs.append(
            Run(case.name, case.tier, mode, score(diagnosis, case.faults, case.objects).fault1,
                bill["calls"],
                bill["input_tokens"], bill["cached_tokens"], bill["output_tokens"],
                diagnosis.tool_calls)
        )  # fmt: skip
        if mode == "llm":
            runs.append(naive(case, recording.answers, model, runs[-1].top1))
    return runs


def naive(case: ScenarioCase, answers: Sequence[str], model: AnalystModel, top1: bool) -> Run:
    """One model call per tool call, each resending everything so far."""
    system = model.requests[0].system if model.requests else ""
    specs = case.toolset.specs()
    prefix = estimate_request(ChatRequest(system, case.request.question, tool_defs(specs)))
    total, transcript = 0, 0
    for answer in answers:
        total += prefix + transcript
        transcript += estimate_tokens(answer) + 40  # the call itself and the turn framing
    total += prefix + transcript  # the final answer
    calls = len(answers) + 1
    return Run(case.name, case.tier, "naive", top1, calls, total, 0, 60 * calls, len(answers))


def summarise(runs: Sequence[Run]) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for tier in ("single-domain", "multi-domain"):
        for mode in ("offline", "hybrid", "llm", "naive"):
            sub = [r for r in runs if r.tier == tier and r.mode == mode]
            if not sub:
                continue
            tokens = [r.input_tokens for r in sub]
            consulted = [r for r in sub if r.calls]
            rows.append({
                "tier": tier,
                "mode": mode,
                "cases": len(sub),
                "top1": sum(r.top1 for r in sub) / len(sub),
                "consulted": len(consulted),
                "calls_mean": statistics.fmean(r.calls for r in sub),
                "calls_max": max(r.calls for r in sub),
                "input_mean": statistics.fmean(tokens),
                "input_mean_consulted": (
                    statistics.fmean(r.input_tokens for r in consulted) if consulted else 0.0
                ),
                "input_p95": _p95(tokens),
                "input_max": max(tokens),
                "uncached_mean": statistics.fmean(r.input_tokens - r.cached_tokens for r in sub),
                "output_mean": statistics.fmean(r.output_tokens for r in sub),
            })  # fmt: skip
    return rows


def _p95(values: Sequence[int]) -> float:
    ordered = sorted(values)
    return float(ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)])


async def _all(cases: Sequence[ScenarioCase]) -> list[Run]:
    runs: list[Run] = []
    for case in cases:
        runs.extend(await run_case(case))
    return runs


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.tokens", description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("bench/results"))
    args = parser.parse_args(argv)
    cases, note = load_scenarios()
    if not cases:
        print(f"no scenarios: {note}")
        return 1
    runs = asyncio.run(_all(cases))
    rows = summarise(runs)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "tokens.md").write_text(markdown(rows, runs, SEED, note))
    plot(rows, SEED, args.out / "tokens.png")
    for row in rows:
        print(
            f"{row['tier']:14} {row['mode']:8} top1 {row['top1']:.0%}  calls "
            f"{row['calls_mean']:.1f} (max {row['calls_max']})  input mean "
            f"{row['input_mean']:,.0f}  p95 {row['input_p95']:,.0f}  max {row['input_max']:,}"
        )
    print(f"wrote {args.out / 'tokens.md'} and {args.out / 'tokens.png'}")
    return 0
