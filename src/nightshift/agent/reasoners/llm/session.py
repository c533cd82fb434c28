"""One investigation on the LLM path, behind the ordinary ReasoningSession.

The built-in offline session always runs underneath: it reads every answer
(its findings are what the model sees, instead of raw dumps) and plans while
it is driving. In hybrid mode the model takes over at the end of a cycle once
the consult rule fires; from then on the session asks it once per cycle, with
the evidence new since the last question. Model updates are returned with the
last observation of the cycle, so the loop's board and events stay the single
source of truth. The model's calls are plain ToolCalls: the loop sends them
through the same (policy-wrapped) toolset as any other reasoner's.

When the token budget cannot cover the next question the LLM path ends and
the run escalates; when the model is unavailable or keeps answering outside
the contract, the offline reasoner finishes the run alone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from nightshift.agent.events import AgentEvent, EventKind
from nightshift.agent.reasoners.llm.accounting import TokenBudgetExhausted
from nightshift.agent.reasoners.llm.answer import AnswerInvalid, tool_defs, wire_defs
from nightshift.agent.reasoners.llm.calling import ModelCaller
from nightshift.agent.reasoners.llm.config import LLMConfig
from nightshift.agent.reasoners.llm.prompt import (
    EvidenceNote,
    PromptState,
    render_user,
    system_prompt,
)
from nightshift.agent.reasoners.llm.provider import ChatRequest, ModelError
from nightshift.agent.reasoners.llm.tree import HypothesisTree
from nightshift.agent.reasoners.offline.reasoner import OfflineSession
from nightshift.agent.reasoners.protocol import HypothesisUpdate, Observation, Plan
from nightshift.agent.request import InvestigationRequest
from nightshift.agent.tools.protocol import ToolCall, ToolResult, ToolSpec
from nightshift.domain.diagnosis import ResourceRef
from nightshift.domain.taxonomy import load_taxonomy
from nightshift.domain.vocabulary import Tier

Emit = Callable[[AgentEvent], None]
_Key = tuple[ResourceRef, str]


def fingerprint(call: ToolCall) -> str:
    """The loop's own duplicate key, so both agree on what was already asked."""
    return call.name + repr(sorted((k, repr(v)) for k, v in call.params.items()))


class LLMSession:
    def __init__(
        self,
        request: InvestigationRequest,
        specs: Sequence[ToolSpec],
        offline: OfflineSession,
        caller: ModelCaller,
        config: LLMConfig,
        emit: Emit,
    ) -> None:
        self.request = request
        self.offline = offline
        self.caller = caller
        self.config = config
        self._emit = emit
        self.tools = tool_defs(specs)  # validated against, in full
        self.wire_tools = wire_defs(self.tools)  # sent
        taxonomy = load_taxonomy()
        self.faults = frozenset(f.id for f in taxonomy if not f.deprecated)
        by_category: dict[str, list[str]] = {}
        for fault in taxonomy:
            if not fault.deprecated:
                by_category.setdefault(fault.category, []).append(fault.id)
        self.system = system_prompt(by_category, config.calls_per_cycle)
        self.multi = request.tier is Tier.MULTI_DOMAIN
        self.driving = "llm" if config.mode == "llm" else "offline"  # | "fallback"
        self.pending: tuple[ToolCall, ...] | None = None
        self.reason = ""
        self.expected: list[str] = []
        self.asked: set[str] = set()
        self.cycles = 0
        self.notes: list[EvidenceNote] = []
        self.unsent: list[EvidenceNote] = []
        self.tree = HypothesisTree()
        self.model_why: dict[_Key, str] = {}
        self.carry: list[HypothesisUpdate] = []
        self.escalation: str | None = None
        self.ended: str | None = None

    # -- ReasoningSession -------------------------------------------------
    async def plan(self) -> Plan:
        if self.escalation is not None:
            return Plan((), reason=self.escalation)
        if self.expected:  # the loop cut the last cycle short: close it here
            self.expected = []
            self.carry.extend(await self._cycle_end())
        if self.driving == "llm" and self.pending is None and self.cycles == 0:
            self.carry.extend(await self._consult("plan"))
        if self.driving == "llm" and self.pending is not None:
            calls, reason = self._fresh(self.pending), self.reason
            self.pending = None
        elif self.driving == "llm" or self.escalation is not None:
            calls, reason = (), self.escalation or "the model has nothing left to ask"
        else:
            offline = await self._offline_plan()
            calls, reason = self._fresh(offline.calls), offline.reason
        self.expected = [fingerprint(c) for c in calls]
        return Plan(calls, self._focus(), reason[:400])

    async def observe(self, call: ToolCall, result: ToolResult, evidence_id: str) -> Observation:
        obs = await self.offline.observe(call, result, evidence_id)
        fp = fingerprint(call)
        self.asked.add(fp)
        note = EvidenceNote(
            evidence_id,
            call,
            result.status.value if result.status.value != "denied" else "denied-by-policy",
            obs.summary or result.error or "",
            obs.findings,
            result.text or (result.error or ""),
        )
        self.notes.append(note)
        self.unsent.append(note)
        # Once the model rated a hypothesis its number stands on the board; the
        # analyzers' later view of it is still shown to the model (a=...).
        updates: list[HypothesisUpdate] = list(self.carry)
        self.carry = []
        for u in obs.updates:
            key = (u.resource, u.fault)
            if key in self.tree.by_model:
                self.tree.analyzers[key] = min(max(u.confidence, 0.0), 1.0)
            else:
                self.tree.apply(u, evidence_id, by_model=False)
                updates.append(u)
        if fp in self.expected:
            self.expected.remove(fp)
        if not self.expected:
            updates.extend(await self._cycle_end())
        return Observation(obs.summary, obs.findings, tuple(updates))

    def explain(self, resource: ResourceRef, fault: str) -> str:
        text = self.offline.explain(resource, fault)
        why = self.model_why.get((resource, fault))
        return f"{text} Model assessment: {why}" if why else text

    # -- hybrid control -----------------------------------------------------
    async def _cycle_end(self) -> list[HypothesisUpdate]:
        self.cycles += 1
        if self.escalation is not None or self.driving == "fallback":
            return []
        if self.driving == "offline":
            why = await self._consult_reason()
            if why is None:
                return []
            self.driving = "llm"
            self._emit(
                AgentEvent(
                    EventKind.LLM_CONSULTED,
                    {"reason": why, "cycle": self.cycles, "offline_top": self.tree.top()},
                )
            )
        return await self._consult("assess")

    async def _consult_reason(self) -> str | None:
        cfg = self.config
        if self.cycles >= cfg.consult_after_cycles:
            if cfg.always:
                return "asked"
            if self.multi and cfg.consult_multi_domain:
                return "multi-domain"
        if self.tree.top() >= cfg.confidence_threshold:
            return None
        if self.cycles >= cfg.offline_max_cycles:
            return f"offline confidence {self.tree.top():.2f} below threshold"
        if not self._fresh((await self._offline_plan()).calls):
            return f"offline reasoner stalled at confidence {self.tree.top():.2f}"
        return None

    async def _consult(self, purpose: str) -> list[HypothesisUpdate]:
        request = ChatRequest(
            system=self.system,
            user=await self._user_prompt(),
            tools=self.wire_tools,
            max_output_tokens=self.config.max_output_tokens,
        )
        try:
            answer = await self.caller.ask(request, self.tools, self.faults)
        except TokenBudgetExhausted as exc:
            self.escalation = str(exc)
            self.pending = ()
            budget = self.caller.budget
            self._emit(
                AgentEvent(
                    EventKind.BUDGET_EXHAUSTED,
                    {
                        "budget": "llm_tokens",
                        "limit": budget.limit,
                        "spent": budget.spent,
                        "message": str(exc),
                    },
                )
            )
            return []
        except AnswerInvalid as exc:
            self._fall_back(f"the model kept answering outside the contract: {exc}")
            return []
        except ModelError as exc:
            self._fall_back(f"the model is unavailable: {exc}")
            return []
        self.unsent = []
        self.pending = () if answer.done else answer.calls
        self.reason = f"model {purpose}: " + "; ".join(
            f"{u.fault}@{u.resource.name} {u.confidence:.2f}" for u in answer.updates[:3]
        )
        last = self.notes[-1].id if self.notes else None
        out = []
        for u in answer.updates:
            if u.rationale:
                self.model_why[(u.resource, u.fault)] = u.rationale
            why = f"model: {u.rationale}" if u.rationale else "model assessment"
            update = HypothesisUpdate(u.resource, u.fault, u.confidence, u.stance, why)
            self.tree.apply(update, last, by_model=True)
            out.append(update)
        return out

    def _fall_back(self, why: str) -> None:
        self.driving = "fallback"
        self.pending = None
        self.ended = why
        self._emit(AgentEvent(EventKind.LOG, {"level": "warning", "message": why[:500]}))

    async def _user_prompt(self) -> str:
        suggested: tuple[ToolCall, ...] = ()
        if self.escalation is None:
            suggested = self._fresh((await self._offline_plan()).calls)
        state = PromptState(
            request_text=self.request.text(),
            tier=self.request.tier.value,
            domains=tuple(d.value for d in self.request.domains),
            cycle=self.cycles,
            tokens_left=self.caller.budget.remaining,
            tree=self.tree.lines(),
            index=self.notes,
            new=self.unsent,
            suggested=suggested,
        )
        return render_user(
            state,
            excerpt_chars=self.config.excerpt_chars,
            excerpts_total=self.config.excerpts_total_chars,
            all_excerpts=self.config.excerpts == "all",
        )

    async def _offline_plan(self) -> Plan:
        """The analyzers' next checks; a failing planner counts as a stalled one
        (the model can still take over), not as the end of the run."""
        try:
            return await self.offline.plan()
        except Exception as exc:
            self._emit(
                AgentEvent(
                    EventKind.LOG,
                    {"level": "warning", "message": f"offline planner failed: {exc!r}"[:300]},
                )
            )
            return Plan(())

    def _fresh(self, calls: Sequence[ToolCall]) -> tuple[ToolCall, ...]:
        seen = set(self.asked)
        out: list[ToolCall] = []
        for call in calls:
            fp = fingerprint(call)
            if fp not in seen:
                seen.add(fp)
                out.append(call)
        return tuple(out[: self.config.calls_per_cycle])

    def _focus(self) -> _Key | None:
        if not self.tree.conf:
            return None
        return max(self.tree.conf.items(), key=lambda kv: kv[1])[0]

    def stats(self) -> dict[str, Any]:
        return {
            "driving": self.driving,
            "cycles_seen": self.cycles,
            "ended": self.ended,
            "escalation": self.escalation,
        }
