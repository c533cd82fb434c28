"""Model calls charged to the chain budget as they stream past.

An LLM reasoner reports each round trip to its model as an ``llm.call`` event.
Wrapping the investigation's stream charges every one of them to the budget
before anything else sees the event, so the next tool decision already knows
what the model spent, and no loop has to remember to do it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any, Protocol

from nightshift.agent.events import AgentEvent, EventKind
from nightshift.domain.diagnosis import Diagnosis


class ChargesModelCalls(Protocol):
    def charge_model_call(self, call: Mapping[str, Any]) -> None: ...


async def charging_model_calls(
    stream: AsyncIterator[AgentEvent | Diagnosis], budget: ChargesModelCalls
) -> AsyncIterator[AgentEvent | Diagnosis]:
    """``stream`` unchanged, each ``llm.call`` event charged to ``budget`` first."""
    async for item in stream:
        if isinstance(item, AgentEvent) and item.kind is EventKind.LLM_CALL:
            budget.charge_model_call(item.data)
        yield item
