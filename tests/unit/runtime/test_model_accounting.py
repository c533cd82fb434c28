"""Each model call in the stream is charged to the budget before it is passed on."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

from nightshift.agent.events import AgentEvent, EventKind
from nightshift.domain.diagnosis import Diagnosis, Outcome
from nightshift.runtime.model_accounting import charging_model_calls

CALL = {"model": "m", "input_tokens": 10, "output_tokens": 5, "cost_usd": 0.01}


class _Ledger:
    def __init__(self) -> None:
        self.charged: list[Mapping[str, Any]] = []

    def charge_model_call(self, call: Mapping[str, Any]) -> None:
        self.charged.append(call)


async def _stream(
    items: list[AgentEvent | Diagnosis], ledger: _Ledger, seen: list[int]
) -> AsyncIterator[AgentEvent | Diagnosis]:
    for item in items:
        seen.append(len(ledger.charged))  # how much was charged when this item was made
        yield item


async def test_model_calls_are_charged_once_each_and_everything_passes_through() -> None:
    diagnosis = Diagnosis(Outcome.EXHAUSTED, (), (), (), cycles=1, tool_calls=0)
    items: list[AgentEvent | Diagnosis] = [
        AgentEvent(EventKind.LLM_CALL, CALL),
        AgentEvent(EventKind.TOOL_REQUESTED, {"tool": "kubectl_get"}),
        AgentEvent(EventKind.LLM_CALL, {**CALL, "cost_usd": 0.02}),
        diagnosis,
    ]
    ledger, seen = _Ledger(), list[int]()
    out: list[AgentEvent | Diagnosis] = []
    async for item in charging_model_calls(_stream(items, ledger, seen), ledger):
        out.append(item)
        if isinstance(item, AgentEvent) and item.kind is EventKind.LLM_CALL:
            assert ledger.charged[-1] is item.data  # charged before anyone sees it
    assert out == items
    assert [c["cost_usd"] for c in ledger.charged] == [0.01, 0.02]
    assert seen == [0, 1, 1, 2]
