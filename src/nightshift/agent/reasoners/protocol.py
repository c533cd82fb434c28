"""The Reasoner protocol: what the loop asks of any reasoning strategy.

A reasoner is a factory of per-investigation sessions. Each cycle the loop asks
the session for a :class:`Plan` (which hypothesis it is testing and which tool
calls best discriminate between the live ones), runs the calls, and hands each
answer back to :meth:`ReasoningSession.observe`, which returns findings and
hypothesis updates. The loop owns budgets, events and the evidence chain; the
session owns only its beliefs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from nightshift.agent.request import InvestigationRequest
from nightshift.agent.tools.protocol import ToolCall, ToolResult, ToolSpec
from nightshift.domain.diagnosis import EvidenceStance, ResourceRef


@dataclass(frozen=True, slots=True)
class HypothesisUpdate:
    """A new absolute confidence for the hypothesis (resource, fault)."""

    resource: ResourceRef
    fault: str
    confidence: float
    stance: EvidenceStance = EvidenceStance.SUPPORTS
    rationale: str = ""
    parent: tuple[ResourceRef, str] | None = None


@dataclass(frozen=True, slots=True)
class Plan:
    calls: tuple[ToolCall, ...]
    focus: tuple[ResourceRef, str] | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Observation:
    summary: str
    findings: tuple[str, ...] = ()
    updates: tuple[HypothesisUpdate, ...] = ()


class ReasoningSession(Protocol):
    async def plan(self) -> Plan: ...

    async def observe(
        self, call: ToolCall, result: ToolResult, evidence_id: str
    ) -> Observation: ...

    def explain(self, resource: ResourceRef, fault: str) -> str:
        """A paragraph a human can check against the cited evidence."""
        ...


class Reasoner(Protocol):
    name: str

    def start(
        self, request: InvestigationRequest, tools: Sequence[ToolSpec]
    ) -> ReasoningSession: ...
