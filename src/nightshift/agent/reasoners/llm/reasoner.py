"""The LLM reasoner: a Reasoner whose sessions consult a chat model.

Build one per investigation (``nightshift.model_backends.factory.build_reasoner`` does
that from an agent's configuration): it collects the session's accounting
events for the stream and finalises the diagnosis with the bill and, when the
token budget ran out, the escalation.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace

from nightshift.agent.events import AgentEvent, EventKind
from nightshift.agent.reasoners.llm.accounting import CallRecord, PriceTable, TokenBudget, totals
from nightshift.agent.reasoners.llm.calling import ModelCaller, Sleep
from nightshift.agent.reasoners.llm.config import LLMConfig
from nightshift.agent.reasoners.llm.provider import ChatModel
from nightshift.agent.reasoners.llm.session import LLMSession
from nightshift.agent.reasoners.offline.reasoner import OfflineReasoner
from nightshift.agent.request import InvestigationRequest
from nightshift.agent.tools.protocol import ToolSpec
from nightshift.domain.diagnosis import Diagnosis, Outcome


class LLMReasoner:
    def __init__(
        self,
        model: ChatModel,
        config: LLMConfig | None = None,
        prices: PriceTable | None = None,
        *,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.model = model
        self.config = config or LLMConfig()
        self.prices = prices or PriceTable({})
        self.name = f"{self.config.mode}:{model.provider}/{model.model}"
        self._sleep = sleep
        self._offline = OfflineReasoner()
        self.records: list[CallRecord] = []
        self._events: list[AgentEvent] = []
        self.session: LLMSession | None = None

    def start(self, request: InvestigationRequest, tools: Sequence[ToolSpec]) -> LLMSession:
        self.records = []
        self._events = []
        caller = ModelCaller(
            self.model,
            TokenBudget(self.config.token_budget),
            self.prices,
            self.config.retry,
            self._sleep,
            self._record,
        )
        offline = self._offline.start(request, tools)
        self.session = LLMSession(request, tools, offline, caller, self.config, self._events.append)
        return self.session

    def _record(self, record: CallRecord) -> None:
        self.records.append(record)
        self._events.append(AgentEvent(EventKind.LLM_CALL, record.to_dict()))

    def drain_events(self) -> list[AgentEvent]:
        out, self._events[:] = list(self._events), []
        return out

    def finalize(self, diagnosis: Diagnosis) -> Diagnosis:
        """The diagnosis with the LLM bill in its stats; a spent token budget
        turns the outcome into an escalation (budget_exhausted)."""
        session = self.session
        bill = totals(self.records)
        if session is not None:
            budget = session.caller.budget
            bill |= {"token_budget": budget.limit, "tokens_spent": budget.spent}
            bill |= session.stats()
        stats = dict(diagnosis.stats) | {"llm": bill}
        if session is None or session.escalation is None or diagnosis.escalate:
            return replace(diagnosis, stats=stats)
        top = diagnosis.top
        best = f"; best candidate so far is {top.fault} on {top.resource}" if top else ""
        return replace(
            diagnosis,
            outcome=Outcome.BUDGET_EXHAUSTED,
            summary=f"budget_exhausted: escalating; LLM token budget exhausted{best}",
            stats=stats,
        )
