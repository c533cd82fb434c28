"""API schemas (pydantic). Kept apart from table rows and domain objects."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from nightshift.api.view_models import view_model
from nightshift.domain.investigations import MAX_PRIORITY
from nightshift.domain.vocabulary import (
    AuthorityClass,
    Domain,
    Tier,
    TrustPhase,
)
from nightshift.services.agents import AgentView
from nightshift.services.investigations import InvestigationView

_LABEL_KEY = r"^[A-Za-z0-9_.:/-]{1,128}$"
_NAMESPACE = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class InvestigationCreate(Strict):
    agent: str = Field(min_length=1, max_length=63, description="registered agent name")
    title: str = Field(
        default="", max_length=512, description="the question or alert; optional with a scenario"
    )
    tier: Tier | None = Field(default=None, description="default: the scenario's, else single")
    priority: int = Field(default=2, ge=0, le=MAX_PRIORITY, description="0 = most urgent")
    scenario: str | None = Field(default=None, max_length=128)
    domains: list[Domain] = Field(default_factory=list, max_length=len(Domain))
    namespace: str | None = Field(default=None, pattern=_NAMESPACE)
    alert: dict[str, str] = Field(default_factory=dict, max_length=64)
    deadline_seconds: int | None = Field(default=None, ge=10, le=6 * 3600)

    @field_validator("alert")
    @classmethod
    def _alert_labels(cls, value: dict[str, str]) -> dict[str, str]:
        import re

        for key, val in value.items():
            if not re.match(_LABEL_KEY, key):
                raise ValueError(f"alert label key {key!r} is not a valid label name")
            if len(val) > 2048:
                raise ValueError(f"alert label {key!r} is longer than 2048 characters")
        return value


class AdmissionOut(BaseModel):
    """A dispatched unit's place in the cluster's admission queue (Kueue): it belongs to
    the cluster, suspended, until the queue admits it."""

    state: str  # not-queued | waiting | admitted | evicted | finished
    reason: str
    queue: str  # the LocalQueue; empty while Kueue has no Workload for the Job
    position_in_local_queue: int | None  # only where Kueue's visibility API answers


def _empty_is_null(value: object) -> object:
    """An empty result or resource map is published as null, as it always was."""
    return value or None


# The worker's spec and the review time stay inside the control plane. ``result`` is
# optional because lists leave it out; ``admission`` is only on GET
# /v1/investigations/{id}, while dispatched to an executor with a queue.
InvestigationOut = view_model(
    InvestigationView,
    "InvestigationOut",
    module=__name__,
    hide=("spec", "reviewed_at"),
    fields={
        "result": (dict[str, Any] | None, None),
        "admission": (AdmissionOut | None, None),
    },
    validators={
        "empty_is_null": field_validator("result", "resources", mode="before")(_empty_is_null)
    },
)


class InvestigationPage(BaseModel):
    items: list[InvestigationOut]  # type: ignore[valid-type]
    next_cursor: str | None


class CancelRequest(Strict):
    reason: str = Field(default="", max_length=1000)


class WorkerEvent(Strict):
    kind: str = Field(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_.]*$")
    data: dict[str, Any] = Field(default_factory=dict)


class WorkerEvents(Strict):
    events: list[WorkerEvent] = Field(min_length=1, max_length=500)


class WorkerResult(Strict):
    status: Literal["succeeded", "escalated", "failed"]
    reason: str = Field(default="", max_length=4000)
    result: dict[str, Any] | None = None


class Accepted(BaseModel):
    event_count: int


class AgentCreate(Strict):
    name: str = Field(min_length=1, max_length=63)
    owner: str = Field(min_length=1, max_length=128)
    authority_class: AuthorityClass
    trust_phase: TrustPhase = TrustPhase.SHADOW
    description: str = Field(default="", max_length=2000)


# The registry's published shape leaves the boundaries out (they are set through
# PUT /v1/agents/{name}/boundaries); showing them would be an API change of its own.
AgentOut = view_model(AgentView, "AgentOut", module=__name__, hide=("boundaries",))


class ErrorOut(BaseModel):
    error: str
    message: str
    details: list[dict[str, Any]] | None = None


class RedeemRequest(Strict):
    code: str = Field(min_length=8, max_length=512)


class GrantOut(BaseModel):
    grant: str


class CredentialKey(Strict):
    domain: Domain
    source: str = Field(default="default", pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")


class CredentialReads(Strict):
    """Every credential a worker needs, in one request (a request each was a round
    trip, and a request's cost to the control plane, before its first event)."""

    grant: str = Field(min_length=8, max_length=512)
    reads: list[CredentialKey] = Field(min_length=1, max_length=32)


class CredentialValues(BaseModel):
    domain: Domain
    source: str
    values: dict[str, str] | None = Field(description="null: nothing is stored for it")


class CredentialsOut(BaseModel):
    credentials: list[CredentialValues]


class DelegateRequest(Strict):
    agent: str = Field(min_length=1, max_length=63, description="the agent to delegate to")
    title: str = Field(min_length=1, max_length=512)
    tier: Tier | None = None
    scenario: str | None = Field(default=None, max_length=128)
    domains: list[Domain] = Field(default_factory=list, max_length=len(Domain))
    namespace: str | None = Field(default=None, pattern=_NAMESPACE)
