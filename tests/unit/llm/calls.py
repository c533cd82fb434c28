"""Shared pieces for the LLM tests: a caller wired to a backend, recorded sleeps."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from nightshift.agent.reasoners.llm.accounting import CallRecord, Price, PriceTable, TokenBudget
from nightshift.agent.reasoners.llm.answer import tool_defs
from nightshift.agent.reasoners.llm.calling import ModelCaller, RetryPolicy
from nightshift.agent.reasoners.llm.provider import ChatModel, ChatRequest
from nightshift.agent.tools.catalog import CATALOG
from nightshift.domain.taxonomy import load_taxonomy

TOOLS = tool_defs(CATALOG)
FAULTS = frozenset(f.id for f in load_taxonomy())
PRICES = PriceTable(
    {
        "gpt-test": Price(input=2.0, output=8.0, cached_input=0.5),
        "claude-test": Price(input=3.0, output=15.0, cached_input=0.3, cache_write=3.75),
    }
)
REQUEST = ChatRequest("system prompt", "state of the investigation", TOOLS, max_output_tokens=300)

ASSESS_OK = json.dumps(
    {
        "hypotheses": [
            {"resource": "shop/deployment/checkout", "fault": "firewall-rule-change",
             "confidence": 0.7, "why": "timeouts to the DC after the rule change"}
        ],
        "done": False,
    }
)  # fmt: skip
GET_PODS = json.dumps({"kind": "pods", "namespace": "shop"})


@dataclass
class Sleeps:
    """Records the backoff delays instead of waiting them out."""

    delays: list[float] = field(default_factory=list)

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def caller(
    model: ChatModel, budget: int = 50_000, retry: RetryPolicy | None = None
) -> tuple[ModelCaller, list[CallRecord], Sleeps]:
    records: list[CallRecord] = []
    sleeps = Sleeps()
    made = ModelCaller(
        model, TokenBudget(budget), PRICES, retry or RetryPolicy(), sleeps, records.append
    )
    return made, records, sleeps
