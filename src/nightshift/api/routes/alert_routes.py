"""/v1/alert-routes: routing rules (ops-lead changes them, viewers read them)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response

from nightshift.api.auth import require
from nightshift.api.deps import AlertRoutesDep
from nightshift.api.schemas_alerts import RouteIn, RouteOut
from nightshift.domain.access import Caller
from nightshift.domain.alerts import RouteRule
from nightshift.domain.vocabulary import Role
from nightshift.services.alert_routes import RouteView

router = APIRouter(prefix="/v1/alert-routes", tags=["alerts"])
Name = Annotated[str, Path(max_length=63)]


def _rule(body: RouteIn) -> RouteRule:
    return RouteRule(
        name=body.name,
        matchers=tuple(body.matchers),
        agent=body.agent,
        tier=body.tier,
        priority=body.priority,
        group_by=tuple(body.group_by),
        group_window_seconds=body.group_window_seconds,
        max_per_minute=body.max_per_minute,
        enabled=body.enabled,
        scenario=body.scenario,
    )


def _out(v: RouteView) -> RouteOut:
    r = v.rule
    return RouteOut(name=r.name, matchers=list(r.matchers), agent=r.agent, tier=r.tier,
                    priority=r.priority, group_by=list(r.group_by),
                    group_window_seconds=r.group_window_seconds,
                    max_per_minute=r.max_per_minute, enabled=r.enabled, scenario=r.scenario,
                    created_at=v.created_at, updated_at=v.updated_at)  # fmt: skip


@router.post("", status_code=201, response_model=RouteOut)
def create(
    body: RouteIn, svc: AlertRoutesDep, _: Caller = Depends(require(Role.OPS_LEAD))
) -> RouteOut:
    return _out(svc.create(_rule(body)))


@router.get("", response_model=list[RouteOut])
def list_routes(svc: AlertRoutesDep, _: Caller = Depends(require(Role.VIEWER))) -> list[RouteOut]:
    return [_out(v) for v in svc.all()]


@router.get("/{name}", response_model=RouteOut)
def show(name: Name, svc: AlertRoutesDep, _: Caller = Depends(require(Role.VIEWER))) -> RouteOut:
    return _out(svc.get(name))


@router.put("/{name}", response_model=RouteOut)
def replace(
    name: Name, body: RouteIn, svc: AlertRoutesDep, _: Caller = Depends(require(Role.OPS_LEAD))
) -> RouteOut:
    return _out(svc.replace(name, _rule(body)))


@router.delete("/{name}", status_code=204)
def delete(
    name: Name, svc: AlertRoutesDep, _: Caller = Depends(require(Role.OPS_LEAD))
) -> Response:
    svc.delete(name)
    return Response(status_code=204)
