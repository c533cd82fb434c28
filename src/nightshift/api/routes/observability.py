"""Observability endpoints: Prometheus metrics, cost attribution, gate progress
and the reasoning-depth bounds in force."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from prometheus_client import CONTENT_TYPE_LATEST

from nightshift.api.auth import require
from nightshift.api.deps import SettingsDep, TelemetryDep
from nightshift.api.schemas_observability import (
    AgentGatesOut,
    CostOut,
    CostReportOut,
    DepthBoundOut,
    GateOut,
    GroupCostOut,
    InvestigationCostOut,
)
from nightshift.domain.access import Caller
from nightshift.domain.vocabulary import Role

router = APIRouter(tags=["observability"])
Viewer = Depends(require(Role.VIEWER))
DEFAULT_PERIOD = timedelta(days=30)


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request, telemetry: TelemetryDep, settings: SettingsDep) -> Response:
    """Prometheus exposition; open unless ``NIGHTSHIFT_METRICS_TOKEN`` is set."""
    expected = settings.metrics_token.get_secret_value()
    if expected:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not secrets.compare_digest(token.strip(), expected):
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "metrics need the bearer token NIGHTSHIFT_METRICS_TOKEN",
                {"WWW-Authenticate": "Bearer"},
            )
    return Response(telemetry.scrape(), media_type=CONTENT_TYPE_LATEST)


def _groups(raw: list[dict[str, Any]]) -> list[GroupCostOut]:
    return [GroupCostOut(**g) for g in raw]


@router.get("/v1/costs", response_model=CostReportOut)
def cost_report(
    telemetry: TelemetryDep,
    _: Caller = Viewer,
    since: datetime | None = None,
    until: datetime | None = None,
    agent: Annotated[str | None, Query(max_length=63)] = None,
) -> CostReportOut:
    """Spend of the investigations that finished in [since, until) (default: 30 days)."""
    end = _aware(until) if until else datetime.now(UTC)
    start = _aware(since) if since else end - DEFAULT_PERIOD
    raw = telemetry.costs.report(start, end, agent).to_dict()
    return CostReportOut(
        since=start,
        until=end,
        investigations=raw["investigations"],
        total=CostOut(**raw["total"]),
        by_agent=_groups(raw["by_agent"]),
        by_category=_groups(raw["by_category"]),
        by_tier=_groups(raw["by_tier"]),
        top_decile_share=raw["top_decile_share"],
        top_decile_count=raw["top_decile_count"],
    )


@router.get("/v1/investigations/{inv_id}/cost", response_model=InvestigationCostOut)
def investigation_cost(
    inv_id: str, telemetry: TelemetryDep, _: Caller = Viewer
) -> InvestigationCostOut:
    found = telemetry.costs.investigation(inv_id)
    return InvestigationCostOut(
        id=found.id,
        agent=found.agent,
        tier=found.tier,
        category=found.category,
        status=found.status,
        cost=CostOut(**found.cost.to_dict()),
    )


@router.get("/v1/observability/gates", response_model=list[AgentGatesOut])
def gate_progress(telemetry: TelemetryDep, _: Caller = Viewer) -> list[AgentGatesOut]:
    """Every agent's promotion gates toward its next phase: value against threshold."""
    view = telemetry.gates
    reports = view.reports(fresh=True) if view is not None else []
    return [
        AgentGatesOut(
            agent=r.agent,
            current=r.current,
            target=r.target,
            evidence_met=r.evidence_met,
            ready=r.ready,
            gates=[GateOut(**g.to_dict()) for g in r.gates],
        )
        for r in reports
    ]


@router.get("/v1/observability/depth", response_model=list[DepthBoundOut])
def depth_bounds(telemetry: TelemetryDep, _: Caller = Viewer) -> list[DepthBoundOut]:
    """The reasoning-depth bound each tier's next investigation gets, and why."""
    return [DepthBoundOut(**b.to_dict()) for b in telemetry.depth.bounds()]


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
