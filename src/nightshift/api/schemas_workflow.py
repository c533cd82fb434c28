"""API schemas for the operator workflow: proposals, approvals, verdicts,
outcomes, escalations and the shadow review queue."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from nightshift.api.schemas import Strict
from nightshift.api.view_models import many, view_model
from nightshift.services.escalations import EscalationView
from nightshift.services.proposals import ProposalView
from nightshift.services.reviews import ReviewView
from nightshift.services.verdicts import VerdictView

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


ProposalOut = view_model(ProposalView, "ProposalOut", module=__name__)


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


VerdictOut = view_model(VerdictView, "VerdictOut", module=__name__)
EscalationOut = view_model(EscalationView, "EscalationOut", module=__name__)


class AckIn(Strict):
    note: str = Field(default="", max_length=2000)


class ResolveIn(Strict):
    resolution: str = Field(min_length=1, max_length=2000)
    warranted: bool | None = Field(
        default=None, description="was escalating right? (feeds escalation correctness)"
    )


# The detail (ops-lead) also lists the investigation's proposals, hidden ones included.
ReviewOut = view_model(
    ReviewView,
    "ReviewOut",
    module=__name__,
    fields={"proposals": (many(ProposalOut) | None, None)},
)


class ReviewIn(Strict):
    note: str = Field(default="", max_length=2000)
