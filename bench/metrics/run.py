"""Observability benchmark: what metrics (and tracing) add to each tool call.

    .venv/bin/python -m bench.metrics [--calls N] [--repeats N] [--out bench/results]

Measures, in-process on this machine:

1. ``Metrics.record_event`` for a ``tool.answered`` event: the work the control
   plane's event observer adds per tool call (target: < 5 µs);
2. ``Telemetry.observe``: the whole observer hook the append path calls
   (metrics plus the event-kind dispatch), without the database;
3. a ``policy.decision`` and an ``llm.call`` event, the other per-call events;
4. an ``execute_tool`` span per call when tracing is on (in-memory exporter),
   against the same call untraced (tracing is off by default: no wrapper);
5. rendering ``/metrics`` for a registry with realistic series counts.

Writes ``metrics.md`` and ``metrics.png`` under the output directory.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from prometheus_client import generate_latest

from bench.metrics.report import TARGET_US, Measure, markdown, plot
from nightshift.agent.tools.protocol import ToolCall, ToolResult, ToolSpec, ToolStatus
from nightshift.domain.vocabulary import Domain
from nightshift.observability.metrics import Metrics

TOOL_ANSWER = {"id": "e3", "tool": "kubectl_get", "params": {"kind": "pods"}, "summary": "3 pods",
               "domain": "kubernetes", "status": "ok", "findings": []}  # fmt: skip
POLICY = {"tool": "kubectl_get", "decision": {"outcome": "allow", "reason": "allowed"}}
LLM = {"provider": "openai", "model": "gpt-test", "input_tokens": 1200, "output_tokens": 90,
       "cached_tokens": 800, "latency_ms": 640.0, "cost_usd": 0.0012, "status": "ok"}  # fmt: skip


def per_call_us(fn: Callable[[], Any], calls: int, repeats: int) -> list[float]:
    """Mean µs per call of each repeat (a batch of ``calls``), GC paused."""
    out = []
    for _ in range(repeats):
        gc.disable()
        t0 = time.perf_counter_ns()
        for _ in range(calls):
            fn()
        elapsed = time.perf_counter_ns() - t0
        gc.enable()
        out.append(elapsed / calls / 1000)
    return out


def _baseline(calls: int, repeats: int) -> list[float]:
    def nothing() -> None:
        return None

    return per_call_us(nothing, calls, repeats)


def _observer(calls: int, repeats: int) -> list[float]:
    from nightshift.services.telemetry import Telemetry

    metrics = Metrics()
    row = SimpleNamespace(tier="single-domain", id="inv")
    telemetry = object.__new__(Telemetry)  # the hook only, no database behind it
    telemetry.metrics = metrics
    return per_call_us(
        lambda: Telemetry.observe(telemetry, None, row, "tool.answered", TOOL_ANSWER),  # type: ignore[arg-type]
        calls,
        repeats,
    )


class _Tools:
    def specs(self) -> list[ToolSpec]:
        return [ToolSpec("kubectl_get", "get", Domain.KUBERNETES, {})]

    async def call(self, call: ToolCall) -> ToolResult:
        return ToolResult(ToolStatus.OK, "NAME READY\n")


def _spans(calls: int, repeats: int) -> tuple[list[float], list[float]]:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from nightshift.observability.worker_trace import WorkerTrace

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    traced = WorkerTrace(provider, "00-" + "ab" * 16 + "-" + "cd" * 8 + "-01", "inv").wrap(_Tools())
    plain = _Tools()
    call = ToolCall("kubectl_get", {"kind": "pods"})

    async def batch(toolset: Any) -> float:
        t0 = time.perf_counter_ns()
        for _ in range(calls):
            await toolset.call(call)
        return (time.perf_counter_ns() - t0) / calls / 1000

    untraced_us, traced_us = [], []
    for _ in range(repeats):
        untraced_us.append(asyncio.run(batch(plain)))
        traced_us.append(asyncio.run(batch(traced)))
        exporter.clear()
    provider.shutdown()
    return untraced_us, traced_us


def _scrape(repeats: int) -> tuple[list[float], int]:
    metrics = Metrics()
    from nightshift.agent.tools.catalog import BY_NAME

    for agent in range(10):
        for status in ("succeeded", "escalated"):
            metrics.record_finished(f"agent-{agent}", "single-domain", "network", status, "")
    for tool in BY_NAME:
        for status in ("ok", "error", "no_data", "timeout"):
            metrics.record_event("single-domain", "tool.answered", {"tool": tool, "status": status})
    for model in range(4):
        metrics.record_event("single-domain", "llm.call", {**LLM, "model": f"model-{model}"})
    for tier in ("single-domain", "multi-domain"):
        for i in range(50):
            metrics.duration.labels(tier).observe(60 + i * 10)
    text = generate_latest(metrics.registry)
    series = sum(1 for line in text.decode().splitlines() if line and not line.startswith("#"))
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter_ns()
        generate_latest(metrics.registry)
        out.append((time.perf_counter_ns() - t0) / 1e6)
    return out, series


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.metrics")
    parser.add_argument("--calls", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "results")
    args = parser.parse_args(argv)
    calls, repeats = args.calls, args.repeats

    metrics = Metrics()
    measures = [
        Measure("empty call (loop floor)", _baseline(calls, repeats)),
        Measure("record tool.answered", per_call_us(
            lambda: metrics.record_event("single-domain", "tool.answered", TOOL_ANSWER),
            calls, repeats)),
        Measure("observer hook (tool.answered)", _observer(calls, repeats)),
        Measure("record policy.decision", per_call_us(
            lambda: metrics.record_event("single-domain", "policy.decision", POLICY),
            calls, repeats)),
        Measure("record llm.call (per model call)", per_call_us(
            lambda: metrics.record_event("single-domain", "llm.call", LLM), calls // 4, repeats)),
    ]  # fmt: skip
    untraced, traced = _spans(max(1000, calls // 20), repeats)
    spans = [Measure("tool call, tracing off", untraced), Measure("tool call, traced", traced)]
    scrape_ms, series = _scrape(repeats)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "metrics.md").write_text(markdown(measures, spans, scrape_ms, series))
    plot(measures, spans, args.out / "metrics.png")
    per_tool_call = statistics.median(measures[2].samples_us)
    verdict = "meets" if per_tool_call < TARGET_US else "MISSES"
    print(f"metric overhead per tool call: {per_tool_call:.2f} µs ({verdict} < {TARGET_US:g} µs)")
    print(f"wrote {args.out / 'metrics.md'} and {args.out / 'metrics.png'}")
    return 0 if per_tool_call < TARGET_US else 1
