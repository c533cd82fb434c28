"""The public Python API: run one investigation in-process, no server needed.

    from nightshift.agent.investigation import investigate, stream_investigation
    diagnosis = await investigate("why is checkout slow?", my_toolset)
    async for item in stream_investigation(request, my_toolset):
        ...  # AgentEvent values, then the Diagnosis last

``toolset`` is anything implementing :class:`nightshift.agent.tools.protocol.Toolset`.
The reasoner defaults to the built-in deterministic offline reasoner; limits
default to the tier's budgets (8 cycles single-domain, 15 multi-domain).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

from nightshift.agent.events import AgentEvent
from nightshift.agent.limits import Limits
from nightshift.agent.loop import run_loop
from nightshift.agent.reasoners.offline.reasoner import OfflineReasoner
from nightshift.agent.reasoners.protocol import Reasoner
from nightshift.agent.request import InvestigationRequest
from nightshift.agent.tools.protocol import Toolset
from nightshift.domain.diagnosis import Diagnosis
from nightshift.domain.vocabulary import Tier


async def stream_investigation(
    request: InvestigationRequest | str,
    toolset: Toolset,
    reasoner: Reasoner | None = None,
    limits: Limits | None = None,
) -> AsyncIterator[AgentEvent | Diagnosis]:
    """Yield every AgentEvent of the run; the last item is the Diagnosis."""
    req = InvestigationRequest.of(request)
    reasoner = reasoner or OfflineReasoner()
    limits = limits or Limits.for_tier(req.tier)
    session = reasoner.start(req, toolset.specs())
    started = {
        "question": req.question,
        "namespace": req.namespace,
        "tier": req.tier.value,
        "reasoner": reasoner.name,
        "scenario": req.scenario,
    }
    async for item in run_loop(session, toolset, limits, started=started):
        yield item


async def investigate(
    question_or_alert: InvestigationRequest | str,
    toolset: Toolset,
    *,
    tier: Tier | None = None,
    limits: Limits | None = None,
    reasoner: Reasoner | None = None,
) -> Diagnosis:
    """Run one investigation to the end and return its Diagnosis."""
    req = InvestigationRequest.of(question_or_alert)
    if tier is not None:
        req = replace(req, tier=tier)
    diagnosis: Diagnosis | None = None
    async for item in stream_investigation(req, toolset, reasoner, limits):
        if isinstance(item, Diagnosis):
            diagnosis = item
    if diagnosis is None:  # the loop always ends with one; this guards the contract
        raise RuntimeError("investigation ended without a diagnosis")
    return diagnosis
