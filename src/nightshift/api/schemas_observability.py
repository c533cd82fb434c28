"""API schemas of the observability endpoints: costs, gate progress, depth bounds."""

from __future__ import annotations

from pydantic import BaseModel

from nightshift.api.timestamps import Timestamp
from nightshift.domain.vocabulary import TrustPhase


class CostOut(BaseModel):
    llm: float
    compute: float
    tooling: float
    storage: float
    total: float


class GroupCostOut(CostOut):
    key: str
    investigations: int
    mean_usd: float


class CostReportOut(BaseModel):
    since: Timestamp
    until: Timestamp
    investigations: int
    total: CostOut
    by_agent: list[GroupCostOut]
    by_category: list[GroupCostOut]
    by_tier: list[GroupCostOut]
    top_decile_share: float  # share of the period's spend by its most expensive 10 %
    top_decile_count: int


class InvestigationCostOut(BaseModel):
    id: str
    agent: str
    tier: str
    category: str
    status: str
    cost: CostOut


class GateOut(BaseModel):
    name: str
    value: float | None
    threshold: float
    comparison: str
    passed: bool
    missing: str


class AgentGatesOut(BaseModel):
    agent: str
    current: TrustPhase
    target: TrustPhase | None
    evidence_met: bool
    ready: bool
    gates: list[GateOut]


class DepthBoundOut(BaseModel):
    tier: str
    limit: int
    ceiling: int
    p95: float | None
    samples: int
    adaptive: bool
