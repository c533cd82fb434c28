"""API schemas for the operator workflow: proposals, approvals, verdicts,
outcomes, escalations and the shadow review queue."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from nightshift.api.schemas import Strict
from nightshift.api.timestamps import Timestamp

_NAMESPACE = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"
_SLUG = r"^[a-z0-9][a-z0-9-]{0,63}$"


class ResourceIn(Strict):
    kind: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=253)
    namespace: str | None = Field(default=None, pattern=_NAMESPACE)


class ProposalIn(Strict):
    action: str = Field(min_length=1, max_length=64, description="catalog action name")
    target: ResourceIn
    confidence: float = Field(ge=0.0, le=1.0)
    hypothesis_id: str | None = Field(default=None, max_length=64)
    rationale: str = Field(default="", max_length=4000)
    evidence_ids: list[str] = Field(default_factory=list, max_length=100)
    params: dict[str, Any] = Field(default_factory=dict, max_length=16)


class ProposalsIn(Strict):
    proposals: list[ProposalIn] = Field(min_length=1, max_length=10)


class ProposalOut(BaseModel):
    id: str
    investigation_id: str
    agent: str
    action: str
    target: dict[str, Any]
    params: dict[str, Any]
    intent: dict[str, Any]
    confidence: float
    phase: str
    status: str
    decision: dict[str, Any]
    visible: bool
    batch_count: int
    batched_into: str | None
    decided_by: str | None
    decision_reason: str
    version: int
    created_at: Timestamp
    expires_at: Timestamp | None
    decided_at: Timestamp | None
    executed_at: Timestamp | None
    rolled_back_at: Timestamp | None
    result: dict[str, Any] | None


class ApproveIn(Strict):
    reason: str = Field(default="", max_length=2000)
    target: ResourceIn | None = Field(default=None, description="approve a modified target")
    params: dict[str, Any] | None = Field(default=None, max_length=16)


class ReasonIn(Strict):
    reason: str = Field(min_length=1, max_length=2000)


class ClaimIn(Strict):
    category: str = Field(min_length=1, max_length=64, pattern=_SLUG)
    remediation_class: str = Field(min_length=1, max_length=64, pattern=_SLUG)
    fault: str | None = Field(default=None, max_length=64, pattern=_SLUG)


class VerdictIn(Strict):
    kind: Literal["accept", "reject", "modify"]
    reason: str = Field(default="", max_length=2000)
    modified: ClaimIn | None = None


class OutcomeIn(Strict):
    actual: ClaimIn
    resources: list[ResourceIn] = Field(default_factory=list, max_length=20)
    note: str = Field(default="", max_length=2000)


class VerdictOut(BaseModel):
    id: str
    investigation_id: str
    agent: str
    kind: str
    author: str | None
    minimal_edit: bool | None
    correct: bool | None
    phase: str
    payload: dict[str, Any]
    created_at: Timestamp


class EscalationOut(BaseModel):
    id: str
    agent: str
    investigation_id: str | None
    proposal_id: str | None
    kind: str
    summary: str
    status: str
    phase: str
    routed_to: list[str]
    payload: dict[str, Any]
    notifications: list[dict[str, Any]]
    warranted: bool | None
    resolution: str
    created_at: Timestamp
    acked_at: Timestamp | None
    resolved_at: Timestamp | None


class AckIn(Strict):
    note: str = Field(default="", max_length=2000)


class ResolveIn(Strict):
    resolution: str = Field(min_length=1, max_length=2000)
    warranted: bool | None = Field(
        default=None, description="was escalating right? (feeds escalation correctness)"
    )


class ReviewOut(BaseModel):
    id: str
    agent: str
    investigation_id: str | None
    summary: str
    status: str
    created_at: Timestamp
    decided_at: Timestamp | None
    decision: str
    result: dict[str, Any] | None = None
    proposals: list[ProposalOut] | None = None


class ReviewIn(Strict):
    note: str = Field(default="", max_length=2000)
