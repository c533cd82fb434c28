"""The agent's unit of reasoning and its result.

A *hypothesis* names a suspected root cause (a resource plus a fault type from
the taxonomy) with a confidence; *evidence* is one tool observation that
supports or refutes hypotheses. A *diagnosis* is the ranked outcome.
All frozen: the loop builds new values instead of mutating shared ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from nightshift.domain.vocabulary import Domain


@dataclass(frozen=True, slots=True)
class ResourceRef:
    """A component or resource: ``kind/name`` in an optional namespace."""

    kind: str
    name: str
    namespace: str | None = None

    def __str__(self) -> str:
        ref = f"{self.kind}/{self.name}"
        return f"{self.namespace}/{ref}" if self.namespace else ref

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "namespace": self.namespace}


class HypothesisState(StrEnum):
    OPEN = "open"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"


class EvidenceStance(StrEnum):
    SUPPORTS = "supports"
    REFUTES = "refutes"
    NEUTRAL = "neutral"


@dataclass(frozen=True, slots=True)
class Evidence:
    """One observation, tied to the tool call that produced it."""

    id: str
    tool: str
    params: Mapping[str, Any]
    summary: str
    domain: Domain
    status: str = "ok"  # ok | error | no_data | timeout | truncated
    findings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "tool": self.tool,
            "params": dict(self.params),
            "summary": self.summary,
            "domain": self.domain.value,
            "status": self.status,
            "findings": list(self.findings),
        }


@dataclass(frozen=True, slots=True)
class Hypothesis:
    id: str
    resource: ResourceRef
    fault: str  # a fault id from the taxonomy
    confidence: float
    state: HypothesisState = HypothesisState.OPEN
    parent_id: str | None = None
    supporting: tuple[str, ...] = ()  # evidence ids
    refuting: tuple[str, ...] = ()
    rationale: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "resource": self.resource.to_dict(),
            "fault": self.fault,
            "confidence": round(self.confidence, 4),
            "state": self.state.value,
            "parent_id": self.parent_id,
            "supporting": list(self.supporting),
            "refuting": list(self.refuting),
            "rationale": self.rationale,
        }


@dataclass(frozen=True, slots=True)
class RootCause:
    """One ranked entry of a diagnosis."""

    rank: int
    resource: ResourceRef
    fault: str
    category: str
    explanation: str
    confidence: float
    evidence_ids: tuple[str, ...]
    remediation_class: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "resource": self.resource.to_dict(),
            "fault": self.fault,
            "category": self.category,
            "explanation": self.explanation,
            "confidence": round(self.confidence, 4),
            "evidence_ids": list(self.evidence_ids),
            "remediation_class": self.remediation_class,
        }


class ChainRole(StrEnum):
    ROOT_CAUSE = "root-cause"
    EFFECT = "effect"  # caused by the link before, causes the one after
    SYMPTOM = "symptom"  # what was observed, at the end of the chain


@dataclass(frozen=True, slots=True)
class ChainLink:
    """One step of the causal chain from the root cause to the symptoms."""

    hypothesis_id: str
    resource: ResourceRef
    fault: str
    role: ChainRole
    confidence: float
    title: str = ""  # the fault's title from the taxonomy

    def to_dict(self) -> dict[str, Any]:
        return {
            "hypothesis_id": self.hypothesis_id,
            "resource": self.resource.to_dict(),
            "fault": self.fault,
            "role": self.role.value,
            "confidence": round(self.confidence, 4),
            "title": self.title,
        }


class Outcome(StrEnum):
    """How the loop ended."""

    DIAGNOSED = "diagnosed"  # a hypothesis cleared the confidence threshold
    EXHAUSTED = "exhausted"  # nothing useful left to ask; best guess ranked
    BREAKER_TRIPPED = "breaker_tripped"  # reasoning-depth breaker: escalate
    BUDGET_EXHAUSTED = "budget_exhausted"  # tokens / tool calls / time: escalate


@dataclass(frozen=True, slots=True)
class Diagnosis:
    outcome: Outcome
    root_causes: tuple[RootCause, ...]
    hypotheses: tuple[Hypothesis, ...]
    evidence: tuple[Evidence, ...]
    cycles: int
    tool_calls: int
    summary: str = ""
    stats: Mapping[str, Any] = field(default_factory=dict)
    # root cause -> intermediate effects -> symptoms, through hypothesis parent links
    causal_chain: tuple[ChainLink, ...] = ()

    @property
    def escalate(self) -> bool:
        return self.outcome in (Outcome.BREAKER_TRIPPED, Outcome.BUDGET_EXHAUSTED)

    @property
    def top(self) -> RootCause | None:
        return self.root_causes[0] if self.root_causes else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome.value,
            "escalate": self.escalate,
            "summary": self.summary,
            "root_causes": [r.to_dict() for r in self.root_causes],
            "hypotheses": [h.to_dict() for h in self.hypotheses],
            "evidence": [e.to_dict() for e in self.evidence],
            "cycles": self.cycles,
            "tool_calls": self.tool_calls,
            "stats": dict(self.stats),
            "causal_chain": [link.to_dict() for link in self.causal_chain],
        }
