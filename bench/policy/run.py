"""Governance benchmark: policy decision latency, audit chain throughput, governed calls.

    .venv/bin/python -m bench.policy [--samples N] [--records N] [--out bench/results]

Writes ``policy.md`` (tables) and ``policy.png`` (latency distributions)
under the output directory. Everything runs in-process on this machine.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.policy import whole
from bench.policy.report import TARGET_P99_US, Latency, markdown, plot
from nightshift.agent.tools.catalog import KUBECTL_GET
from nightshift.agent.tools.protocol import ToolCall, ToolResult, ToolSpec, ToolStatus
from nightshift.domain.actions import ActionProposal, load_action_catalog
from nightshift.domain.agents import AgentIdentity, Boundaries, Principal
from nightshift.domain.diagnosis import ResourceRef
from nightshift.domain.vocabulary import AuthorityClass, Domain, PrincipalKind, Role, TrustPhase
from nightshift.governance.containment import start_chain
from nightshift.governance.policy import (
    ActionRequest,
    DelegationRequest,
    PolicyContext,
    Request,
    ToolRequest,
    decide,
)
from nightshift.observability.audit_chain import AuditChain, AuditEntry, verify
from nightshift.runtime.worker_policy import WorkerGovernance


def _identity() -> AgentIdentity:
    catalog = load_action_catalog()
    owner = Principal(
        "olivia", "Olivia", PrincipalKind.HUMAN, frozenset({Role.OPS_LEAD}), "o@example.org"
    )
    return AgentIdentity(
        name="triage",
        owner=owner,
        authority_class=AuthorityClass.AUTONOMOUS,
        phase=TrustPhase.AUTONOMOUS_L1,
        boundaries=Boundaries(
            namespaces=frozenset({"shop", "payments"}),
            domains=frozenset(Domain),
            action_types=frozenset(a.name for a in catalog),
        ),
    )


def _bench_agent() -> AgentIdentity:
    """The benchmark identity with every namespace and limits no run reaches: the
    investigations measure governance's cost, not its refusals."""
    base = _identity()
    return AgentIdentity(
        name=base.name,
        owner=base.owner,
        authority_class=base.authority_class,
        phase=base.phase,
        boundaries=Boundaries(
            namespaces=frozenset({"*"}),
            domains=frozenset(Domain),
            action_types=base.boundaries.action_types,
            max_tool_calls=10_000_000,
            max_calls_per_minute=10_000_000,
        ),
    )


def _scenarios(agent: AgentIdentity) -> list[tuple[str, Request, PolicyContext]]:
    catalog = load_action_catalog()
    ctx = PolicyContext(
        chain=start_chain("bench-chain-1", agent.name, agent.boundaries), catalog=catalog
    )
    deep = PolicyContext(
        chain=ctx.chain.descend("netdiag").descend("dbdiag").descend(agent.name), catalog=catalog
    )
    target = ResourceRef("pod", "checkout-7d9f", "shop")
    return [
        ("tool read, allowed", ToolRequest("kubectl_get", Domain.KUBERNETES, True, "shop"), ctx),
        (
            "action, auto-execute",
            ActionRequest(ActionProposal("restart-pod", target, 0.95, "h-1")),
            ctx,
        ),
        (
            "action, escalate (low confidence)",
            ActionRequest(ActionProposal("restart-pod", target, 0.40, "h-1")),
            ctx,
        ),
        (
            "action, out of scope (deny + review)",
            ActionRequest(
                ActionProposal("restart-pod", ResourceRef("pod", "x", "kube-system"), 0.9)
            ),
            ctx,
        ),
        ("delegation, cycle (breaker)", DelegationRequest(agent.name), ctx),
        ("tool read in A->B->C->A chain", ToolRequest("kubectl_get", Domain.KUBERNETES), deep),
    ]


def bench_decide(samples: int) -> list[Latency]:
    agent = _identity()
    results = []
    clock = time.perf_counter_ns
    for name, request, ctx in _scenarios(agent):
        for _ in range(2000):  # warm caches and the specialising interpreter
            decide(agent, request, ctx)
        gc.collect()
        out = [0.0] * samples
        for i in range(samples):
            t0 = clock()
            decide(agent, request, ctx)
            out[i] = (clock() - t0) / 1000.0
        results.append(Latency(name, out))
    return results


def bench_timer_floor(samples: int) -> float:
    clock = time.perf_counter_ns
    floor = []
    for _ in range(samples):
        t0 = clock()
        floor.append(clock() - t0)
    return statistics.median(floor) / 1000.0


def bench_audit(records: int) -> dict[str, float]:
    start = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)
    entries = [
        AuditEntry(
            at=start + timedelta(milliseconds=i),
            actor="triage",
            owner="olivia",
            authority_class="autonomous",
            phase="autonomous-l1",
            chain_id="bench-chain-1",
            intent=f"hypothesis h-{i % 17}: firewall change cascaded into pool exhaustion",
            request={"tool": "kubectl_get", "params": {"kind": "pods", "namespace": "shop"}},
            decision="allow",
            reason="allowed",
            message="within boundaries",
        )
        for i in range(records)
    ]
    chain = AuditChain()
    t0 = time.perf_counter()
    sealed = [chain.append(e) for e in entries]
    append_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    result = verify(sealed, expected_head=chain.head, expected_count=records)
    verify_s = time.perf_counter() - t0
    assert result.ok and result.checked == records
    return {
        "records": float(records),
        "append_s": append_s,
        "verify_s": verify_s,
        "append_per_s": records / append_s,
        "verify_per_s": records / verify_s,
    }


class _Instant:
    """A toolset that answers at once: the worst case for relative overhead."""

    def specs(self) -> Sequence[ToolSpec]:
        return (KUBECTL_GET,)

    async def call(self, call: ToolCall) -> ToolResult:
        return ToolResult(ToolStatus.OK, "NAME READY\ncheckout-7d9f 1/1")


def _worker_governance(agent: AgentIdentity) -> WorkerGovernance:
    """Governance as a worker runs it: decide, the chain's budget and call-rate window,
    and an audit record of every decision."""
    return WorkerGovernance(agent, "bench-chain-1", load_action_catalog())


def bench_governed(calls: int) -> dict[str, float]:
    agent = _bench_agent()
    raw = _Instant()
    governance = _worker_governance(agent)
    governed = governance.wrap(raw)
    call = ToolCall("kubectl_get", {"kind": "pods", "namespace": "shop"})

    async def run(target: Callable[[ToolCall], object]) -> float:
        for _ in range(1000):
            await target(call)  # type: ignore[misc]
        governance.drain()
        gc.collect()
        t0 = time.perf_counter()
        for _ in range(calls):
            await target(call)  # type: ignore[misc]
        governance.drain()  # the worker hands every record to its uplink
        return (time.perf_counter() - t0) / calls * 1e6

    raw_us = min(asyncio.run(run(raw.call)) for _ in range(3))
    gov_us = min(asyncio.run(run(governed.call)) for _ in range(3))
    return {"raw_us": raw_us, "governed_us": gov_us, "overhead_us": gov_us - raw_us}


class _Timed:
    """A toolset whose calls are counted and timed: ``ns`` sums their wall time."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls = 0
        self.ns = 0

    def specs(self) -> Sequence[ToolSpec]:
        return self.inner.specs()  # type: ignore[no-any-return]

    async def call(self, call: ToolCall) -> ToolResult:
        self.calls += 1
        t0 = time.perf_counter_ns()
        try:
            return await self.inner.call(call)  # type: ignore[no-any-return]
        finally:
            self.ns += time.perf_counter_ns() - t0


def attributed(inner: Any, wrap: Callable[[Any], Any]) -> tuple[_Timed, _Timed]:
    """``wrap(inner)`` timed from outside, and ``inner`` timed from inside the wrapper:
    outside minus inside is what the wrapper itself spent (the timers' own frames
    are charged to the wrapper, so the figure errs high)."""
    inside = _Timed(inner)
    return _Timed(wrap(inside)), inside


def bench_investigations(limit: int, rounds: int = 30) -> dict[str, float] | str:
    """Whole replayed investigations, raw against governed (bench/policy/whole.py);
    returns why when they cannot run."""
    cases = whole.replay_cases(limit)
    if isinstance(cases, str):
        return cases
    agent = _bench_agent()
    try:
        return whole.compare(cases, rounds, lambda: _worker_governance(agent), attributed, _Timed)
    except Exception as exc:
        return f"skipped: investigation failed: {exc!r}"


def bench_live(limit: int, rounds: int = 30) -> dict[str, float] | str:
    """Whole investigations against a real API server, raw against governed."""
    agent = _bench_agent()
    try:
        with whole.live_cases(limit) as cases:
            return whole.compare(
                cases, rounds, lambda: _worker_governance(agent), attributed, _Timed
            )
    except Exception as exc:  # no control plane on this machine, or it failed
        return f"skipped: {exc!r}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.policy", description=__doc__)
    parser.add_argument("--samples", type=int, default=100_000, help="decide() calls per scenario")
    parser.add_argument("--records", type=int, default=100_000, help="audit records")
    parser.add_argument("--calls", type=int, default=50_000, help="governed tool calls")
    parser.add_argument("--cases", type=int, default=1000, help="max replayed investigations")
    parser.add_argument(
        "--live-cases", type=int, default=24, help="faults staged on the real API server"
    )
    parser.add_argument("--live-rounds", type=int, default=30, help="rounds per live case and side")
    parser.add_argument("--out", type=Path, default=Path("bench/results"))
    args = parser.parse_args(argv)
    decisions = bench_decide(args.samples)
    floor = bench_timer_floor(args.samples)
    audit = bench_audit(args.records)
    governed = bench_governed(args.calls)
    wholes = {
        "live": bench_live(args.live_cases, args.live_rounds),
        "replay": bench_investigations(args.cases),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    report = markdown(decisions, floor, audit, governed, wholes)
    (args.out / "policy.md").write_text(report, encoding="utf-8")
    plot(decisions, audit, args.out / "policy.png")
    sys.stdout.write(report)
    worst = max(lat.pct(0.99) for lat in decisions)
    return 0 if worst < TARGET_P99_US else 1
