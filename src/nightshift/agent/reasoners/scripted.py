"""A scripted fake reasoner for tests: plays back fixed plans and updates."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from nightshift.agent.reasoners.protocol import HypothesisUpdate, Observation, Plan
from nightshift.agent.request import InvestigationRequest
from nightshift.agent.tools.protocol import ToolCall, ToolResult, ToolSpec
from nightshift.domain.diagnosis import ResourceRef


class ScriptedReasoner:
    """Each plan is one cycle's calls; ``updates`` maps a tool name to the
    hypothesis updates to report whenever that tool answers."""

    name = "scripted"

    def __init__(
        self,
        plans: Sequence[Sequence[ToolCall]],
        updates: Mapping[str, Sequence[HypothesisUpdate]] | None = None,
    ) -> None:
        self.plans = [tuple(p) for p in plans]
        self.updates = dict(updates or {})
        self.observed: list[tuple[ToolCall, ToolResult]] = []
        self.request: InvestigationRequest | None = None

    def start(self, request: InvestigationRequest, tools: Sequence[ToolSpec]) -> ScriptedReasoner:
        self.request = request
        return self

    async def plan(self) -> Plan:
        calls = self.plans.pop(0) if self.plans else ()
        return Plan(calls, reason="scripted")

    async def observe(self, call: ToolCall, result: ToolResult, evidence_id: str) -> Observation:
        self.observed.append((call, result))
        return Observation(
            f"{call.name}: {result.status.value}", (), tuple(self.updates.get(call.name, ()))
        )

    def explain(self, resource: ResourceRef, fault: str) -> str:
        return f"scripted: {fault} on {resource}"
