"""The one investigation loop: async, streaming, budget-bounded.

A cycle asks the reasoning session for a plan (the hypothesis in focus and the
tool calls that best discriminate between the live hypotheses), runs the calls
with a per-call timeout, records every answer as evidence (errors, timeouts,
empty and oversized output included), lets the session update its beliefs and
streams an :class:`AgentEvent` for each step. It stops when a hypothesis clears
the confidence threshold, when the session has nothing useful left to ask, or
when a budget runs out; the last item yielded is always the :class:`Diagnosis`.
Budgets are inputs: running out ends the run with an escalation, it never
extends the budget.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import asdict, replace
from typing import Any

from nightshift.agent.events import AgentEvent, EventKind
from nightshift.agent.limits import Limits
from nightshift.agent.reasoners.protocol import HypothesisUpdate, Observation, ReasoningSession
from nightshift.agent.result import build_diagnosis
from nightshift.agent.tools.catalog import BY_NAME
from nightshift.agent.tools.protocol import ToolCall, ToolResult, Toolset, ToolStatus
from nightshift.domain.diagnosis import (
    Diagnosis,
    Evidence,
    EvidenceStance,
    Hypothesis,
    HypothesisState,
    Outcome,
    ResourceRef,
)
from nightshift.domain.vocabulary import Domain

MAX_TEXT_CHARS = 200_000  # larger answers are cut and marked truncated
REJECT_BELOW = 0.05

_Key = tuple[ResourceRef, str]


class _Board:
    """The hypothesis tree and evidence chain of one run (owned by the loop)."""

    def __init__(self) -> None:
        self.hypotheses: dict[_Key, Hypothesis] = {}
        self.evidence: list[Evidence] = []

    def apply(self, update: HypothesisUpdate, evidence_id: str) -> tuple[EventKind, Hypothesis]:
        key = (update.resource, update.fault)
        old = self.hypotheses.get(key)
        conf = min(max(update.confidence, 0.0), 1.0)
        refutes = update.stance is EvidenceStance.REFUTES
        if old is None:
            new = Hypothesis(
                id=f"h{len(self.hypotheses) + 1}",
                resource=update.resource,
                fault=update.fault,
                confidence=conf,
                parent_id=self._parent_id(key, update.parent),
                supporting=() if refutes else (evidence_id,),
                refuting=(evidence_id,) if refutes else (),
                rationale=update.rationale,
            )
            self.hypotheses[key] = new
            return EventKind.HYPOTHESIS_CREATED, new
        parent_id = self._parent_id(key, update.parent) or old.parent_id
        supporting, refuting = old.supporting, old.refuting
        if update.stance is EvidenceStance.SUPPORTS and evidence_id not in supporting:
            supporting = (*supporting, evidence_id)
        if refutes and evidence_id not in refuting:
            refuting = (*refuting, evidence_id)
        state = HypothesisState.REJECTED if refutes and conf < REJECT_BELOW else old.state
        if state is HypothesisState.REJECTED and not refutes:
            state = HypothesisState.OPEN
        new = Hypothesis(
            id=old.id,
            resource=old.resource,
            fault=old.fault,
            confidence=conf,
            state=state,
            parent_id=parent_id,
            supporting=supporting,
            refuting=refuting,
            rationale=update.rationale or old.rationale,
        )
        self.hypotheses[key] = new
        kind = (
            EventKind.HYPOTHESIS_REJECTED
            if state is HypothesisState.REJECTED and old.state is not state
            else EventKind.HYPOTHESIS_UPDATED
        )
        return kind, new

    def _parent_id(self, key: _Key, parent: _Key | None) -> str | None:
        """The parent's id when it is on the board and linking would not make a loop."""
        seen = {key}
        node = self.hypotheses.get(parent) if parent else None
        found = node
        while node is not None:
            if (node.resource, node.fault) in seen:
                return None
            seen.add((node.resource, node.fault))
            node = self._by_id(node.parent_id)
        return found.id if found else None

    def _by_id(self, hid: str | None) -> Hypothesis | None:
        if hid is None:
            return None
        return next((h for h in self.hypotheses.values() if h.id == hid), None)

    def relink(self, update: HypothesisUpdate) -> Hypothesis | None:
        """A parent created later in the same observation: link it now (None if unchanged)."""
        key = (update.resource, update.fault)
        old = self.hypotheses.get(key)
        parent_id = self._parent_id(key, update.parent)
        if old is None or parent_id is None or parent_id == old.parent_id:
            return None
        self.hypotheses[key] = replace(old, parent_id=parent_id)
        return self.hypotheses[key]

    def ranked(self) -> list[Hypothesis]:
        live = [h for h in self.hypotheses.values() if h.state is not HypothesisState.REJECTED]
        return sorted(live, key=lambda h: (-h.confidence, h.id))

    def confirm(self, key: _Key) -> Hypothesis:
        h = self.hypotheses[key]
        confirmed = replace(h, state=HypothesisState.CONFIRMED)
        self.hypotheses[key] = confirmed
        return confirmed


async def _call(toolset: Toolset, call: ToolCall, known: set[str], timeout_s: float) -> ToolResult:
    if call.name not in known:
        return ToolResult(ToolStatus.NO_DATA, "", error=f"toolset does not offer {call.name}")
    try:
        result: object = await asyncio.wait_for(toolset.call(call), timeout=timeout_s)
    except TimeoutError:
        return ToolResult(ToolStatus.TIMEOUT, "", error=f"no answer within {timeout_s:g}s")
    except Exception as exc:  # a broken tool is evidence, never a crash
        return ToolResult(ToolStatus.ERROR, "", error=f"{type(exc).__name__}: {exc}")
    if not isinstance(result, ToolResult):
        return ToolResult(ToolStatus.ERROR, "", error="toolset returned a non-result")
    return result


def _status(result: ToolResult) -> str:
    if result.status is ToolStatus.OK and len(result.text) > MAX_TEXT_CHARS:
        return "truncated"
    return "error" if result.status is ToolStatus.DENIED else result.status.value


def _clip(result: ToolResult) -> ToolResult:
    if len(result.text) <= MAX_TEXT_CHARS:
        return result
    return ToolResult(result.status, result.text[:MAX_TEXT_CHARS], result.data, result.error)


async def run_loop(
    session: ReasoningSession,
    toolset: Toolset,
    limits: Limits,
    *,
    started: dict[str, Any] | None = None,
) -> AsyncIterator[AgentEvent | Diagnosis]:
    """Drive one investigation; yields events and finally the Diagnosis."""
    board = _Board()
    known = {spec.name for spec in toolset.specs()}
    t0 = time.monotonic()
    cpu_per_cycle: list[float] = []
    asked: set[str] = set()
    tool_calls = 0
    cycles = 0
    outcome: Outcome | None = None
    yield AgentEvent(EventKind.INVESTIGATION_STARTED, dict(started or {}, limits=asdict(limits)))
    while outcome is None:
        if cycles >= limits.max_cycles:
            outcome = Outcome.BREAKER_TRIPPED
            yield AgentEvent(
                EventKind.BREAKER_TRIPPED, {"cycles": cycles, "limit": limits.max_cycles}
            )
            break
        cpu0 = time.process_time()
        try:
            plan = await session.plan()
        except Exception as exc:
            yield AgentEvent(
                EventKind.LOG, {"level": "error", "message": f"reasoner plan failed: {exc}"}
            )
            outcome = Outcome.EXHAUSTED
            break
        cpu = time.process_time() - cpu0
        calls = [c for c in plan.calls if _fingerprint(c) not in asked][: limits.calls_per_cycle]
        if not calls:
            outcome = Outcome.EXHAUSTED
            break
        cycles += 1
        for call in calls:
            if tool_calls >= limits.max_tool_calls or time.monotonic() - t0 > limits.wall_time_s:
                outcome = Outcome.BUDGET_EXHAUSTED
                yield AgentEvent(
                    EventKind.BUDGET_EXHAUSTED,
                    {"tool_calls": tool_calls, "elapsed_s": round(time.monotonic() - t0, 3)},
                )
                break
            asked.add(_fingerprint(call))
            tool_calls += 1
            eid = f"e{tool_calls}"
            yield AgentEvent(
                EventKind.TOOL_REQUESTED,
                {
                    "evidence_id": eid,
                    "tool": call.name,
                    "params": dict(call.params),
                    "reason": plan.reason,
                },
            )
            remaining = max(0.01, limits.wall_time_s - (time.monotonic() - t0))
            result = await _call(toolset, call, known, min(limits.call_timeout_s, remaining))
            status = _status(result)
            result = _clip(result)
            cpu0 = time.process_time()
            try:
                obs = await session.observe(call, result, eid)
            except Exception as exc:
                obs = Observation(summary=f"could not interpret the answer ({type(exc).__name__})")
            cpu += time.process_time() - cpu0
            spec = BY_NAME.get(call.name)
            ev = Evidence(
                id=eid,
                tool=call.name,
                params=dict(call.params),
                summary=_evidence_summary(obs, result),
                domain=spec.domain if spec else Domain.APPLICATION,
                status=status,
                findings=obs.findings,
            )
            board.evidence.append(ev)
            yield AgentEvent(EventKind.TOOL_ANSWERED, ev.to_dict())
            for update in obs.updates:
                kind, hyp = board.apply(update, eid)
                yield AgentEvent(kind, hyp.to_dict())
            for update in obs.updates:  # parents that only now exist on the board
                if update.parent is not None and (linked := board.relink(update)):
                    yield AgentEvent(EventKind.HYPOTHESIS_UPDATED, linked.to_dict())
        cpu_per_cycle.append(cpu)
        ranked = board.ranked()
        top = ranked[0] if ranked else None
        yield AgentEvent(
            EventKind.CYCLE_FINISHED,
            {
                "cycle": cycles,
                "focus": _focus(plan.focus),
                "top": top.to_dict() if top else None,
                "tool_calls": tool_calls,
                "reasoner_cpu_ms": round(cpu * 1000, 3),
            },
        )
        if (
            top is not None
            and top.confidence >= limits.confidence_threshold
            and cycles >= limits.min_cycles
        ):
            confirmed = board.confirm((top.resource, top.fault))
            yield AgentEvent(EventKind.HYPOTHESIS_CONFIRMED, confirmed.to_dict())
            outcome = Outcome.DIAGNOSED
    if outcome is Outcome.EXHAUSTED:
        ranked = board.ranked()
        if ranked and ranked[0].confidence >= limits.confidence_threshold:
            outcome = Outcome.DIAGNOSED
    diagnosis = build_diagnosis(
        board.ranked(),
        board.hypotheses.values(),
        board.evidence,
        session,
        outcome or Outcome.EXHAUSTED,
        cycles,
        tool_calls,
    )
    stats = {
        "wall_time_s": round(time.monotonic() - t0, 4),
        "reasoner_cpu_ms_per_cycle": [round(c * 1000, 3) for c in cpu_per_cycle],
        "reasoner_cpu_ms_max": round(max(cpu_per_cycle, default=0.0) * 1000, 3),
    }
    diagnosis = replace(diagnosis, stats=stats)
    yield AgentEvent(EventKind.RESULT, diagnosis.to_dict())
    yield diagnosis


def _fingerprint(call: ToolCall) -> str:
    return call.name + repr(sorted((k, repr(v)) for k, v in call.params.items()))


def _focus(focus: _Key | None) -> dict[str, Any] | None:
    return None if focus is None else {"resource": focus[0].to_dict(), "fault": focus[1]}


def _evidence_summary(obs: Observation, result: ToolResult) -> str:
    if result.status is ToolStatus.OK or not result.error:
        return obs.summary
    return f"{obs.summary}; {result.error}"[:400] if obs.summary else result.error[:400]
