"""Streaming an investigation with a reasoner that has events of its own.

The loop streams what it sees; an LLM reasoner additionally produces
accounting events (``llm.call``, ``llm.consulted``, a token
``budget.exhausted``) and finalises the diagnosis. This wraps
``stream_investigation`` and interleaves them, so the worker forwards one
stream and the control plane stores the bill on the investigation.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol, runtime_checkable

from nightshift.agent.events import AgentEvent, EventKind
from nightshift.agent.investigation import stream_investigation
from nightshift.agent.limits import Limits
from nightshift.agent.reasoners.protocol import Reasoner
from nightshift.agent.request import InvestigationRequest
from nightshift.agent.tools.protocol import Toolset
from nightshift.domain.diagnosis import Diagnosis


@runtime_checkable
class AccountedReasoner(Protocol):
    def drain_events(self) -> list[AgentEvent]: ...

    def finalize(self, diagnosis: Diagnosis) -> Diagnosis: ...


async def stream_reasoned_investigation(
    request: InvestigationRequest | str,
    toolset: Toolset,
    reasoner: Reasoner | None = None,
    limits: Limits | None = None,
) -> AsyncIterator[AgentEvent | Diagnosis]:
    """Like ``stream_investigation``; adds the reasoner's own events when it has any."""
    accounted: object = reasoner  # a Reasoner may or may not also be accounted
    if not isinstance(accounted, AccountedReasoner):
        async for item in stream_investigation(request, toolset, reasoner, limits):
            yield item
        return
    async for item in stream_investigation(request, toolset, reasoner, limits):
        for event in accounted.drain_events():
            yield event
        if isinstance(item, Diagnosis):
            final = accounted.finalize(item)
            yield AgentEvent(EventKind.RESULT, final.to_dict())
            yield final
        elif item.kind is not EventKind.RESULT:  # re-sent above, finalised
            yield item


async def investigate_reasoned(
    request: InvestigationRequest | str,
    toolset: Toolset,
    reasoner: Reasoner | None = None,
    limits: Limits | None = None,
) -> tuple[Diagnosis, list[AgentEvent]]:
    """Run to the end; the diagnosis and every event (for tests and benchmarks)."""
    events: list[AgentEvent] = []
    diagnosis: Diagnosis | None = None
    async for item in stream_reasoned_investigation(request, toolset, reasoner, limits):
        if isinstance(item, Diagnosis):
            diagnosis = item
        else:
            events.append(item)
    if diagnosis is None:
        raise RuntimeError("investigation ended without a diagnosis")
    return diagnosis, events
