"""API schemas for governance: owners, phases, gates, kill switch, audit."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from nightshift.api.schemas import Strict
from nightshift.api.timestamps import Timestamp
from nightshift.api.view_models import view_model
from nightshift.domain.vocabulary import Domain, PrincipalKind, Role, TrustPhase
from nightshift.services.phases import PhaseChange


class Reason(Strict):
    reason: str = Field(default="", max_length=2000)


class RequiredReason(Strict):
    reason: str = Field(min_length=1, max_length=2000)


class UserCreate(Strict):
    name: str = Field(min_length=1, max_length=128)
    kind: PrincipalKind = PrincipalKind.HUMAN
    roles: list[Role] = Field(min_length=1, max_length=len(Role))
    contact: str = Field(default="", max_length=256)


class UserOut(BaseModel):
    name: str
    kind: PrincipalKind
    roles: list[Role]
    contact: str
    active: bool


class Deactivated(BaseModel):
    user: str
    suspended_agents: list[str]


class Transfer(Strict):
    new_owner: str = Field(min_length=1, max_length=128)
    reason: str = Field(min_length=1, max_length=2000)


class BoundariesIn(Strict):
    namespaces: list[str] = Field(default_factory=list, max_length=200)
    domains: list[Domain] = Field(default_factory=list)
    action_types: list[str] = Field(default_factory=list, max_length=100)
    max_depth: int | None = Field(default=None, ge=0, le=16)
    max_fan_out: int | None = Field(default=None, ge=0, le=64)
    max_calls_per_minute: int | None = Field(default=None, ge=1, le=100_000)
    max_tokens: int | None = Field(default=None, ge=0)
    max_cost_usd: float | None = Field(default=None, ge=0)
    max_wall_seconds: float | None = Field(default=None, ge=0)
    max_tool_calls: int | None = Field(default=None, ge=0)

    def as_data(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


# The view spells phases as stored (phases.py); the API names the enum, like every
# other phase field, so clients see the values a phase can take.
PhaseChangeOut = view_model(
    PhaseChange,
    "PhaseChangeOut",
    module=__name__,
    fields={"from_phase": (TrustPhase | None, ...), "to_phase": (TrustPhase, ...)},
)


class SignOffIn(Strict):
    target: TrustPhase
    role: Role


class PromoteIn(Strict):
    target: TrustPhase
    reason: str = Field(min_length=1, max_length=2000)


class PhaseProposalIn(Strict):
    """A phase change to be carried by a Git commit (``nightshift promote --git``)."""

    target: TrustPhase
    environment: Literal["dev", "staging", "production"]
    reason: str = Field(min_length=1, max_length=2000)
    declared: TrustPhase | None = None  # the phase Git declares now


class KillSwitchIn(Strict):
    agent: str | None = Field(default=None, max_length=63)
    reason: str = Field(min_length=1, max_length=2000)


class KillSwitchOut(BaseModel):
    global_engaged: bool
    agents: list[str]
    reason: str


class Stopped(BaseModel):
    stopped: int


class ReviewItemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)  # read straight from ReviewItem

    id: str
    kind: str
    agent_id: str
    investigation_id: str | None
    summary: str
    payload: dict[str, Any]
    status: str
    created_at: Timestamp


class AuditVerifyOut(BaseModel):
    # Spelled out, not derived from services.audit.AuditReport: the report's optional
    # fields are always answered here (required in the schema), and its anchor count
    # is not published.
    model_config = ConfigDict(from_attributes=True)

    ok: bool
    checked: int
    head: str
    message: str
    first_broken_seq: int | None
    kind: str | None


class AuditRecordOut(BaseModel):
    seq: int
    hash: str
    prev_hash: str
    record: dict[str, Any]
