"""/v1/alerts: intake (Alertmanager webhook v4, generic), reads, and the alerts
an investigation absorbed (for people and for its worker)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request

from nightshift.api.auth import require, worker
from nightshift.api.schemas_alerts import (
    AlertmanagerWebhook,
    AlertOut,
    GenericAlert,
    GenericAlerts,
    IntakeOut,
    WorkerAlert,
    WorkerAlertsOut,
)
from nightshift.domain.access import Caller
from nightshift.domain.alerts import AlertStatus, Notification
from nightshift.domain.vocabulary import Role
from nightshift.services.alert_store import AlertReads, AlertView
from nightshift.services.alerts import AlertIntakeService, IntakeResult
from nightshift.services.errors import Invalid

router = APIRouter(tags=["alerts"])
Fingerprint = Annotated[str, Path(max_length=128)]


def _intake(request: Request) -> AlertIntakeService:
    svc: AlertIntakeService = request.app.state.container.alerts
    return svc


def _reads(request: Request) -> AlertReads:
    svc: AlertReads = request.app.state.container.alert_reads
    return svc


def _out(r: IntakeResult) -> IntakeOut:
    return IntakeOut(received=r.received, created=r.created, updated=r.updated,
                     groups=list(r.groups), started=list(r.started), pending=r.pending)  # fmt: skip


def _alert_out(v: AlertView) -> AlertOut:
    return AlertOut(**asdict(v))


@router.post("/v1/alerts/alertmanager", response_model=IntakeOut)
def alertmanager_webhook(
    body: AlertmanagerWebhook, request: Request, who: Caller = Depends(require(Role.ALERT_SENDER))
) -> IntakeOut:
    """Alertmanager's webhook receiver (payload version 4)."""
    n = Notification(
        alerts=[a.to_domain() for a in body.alerts],
        group_key=body.group_key,
        receiver=body.receiver,
        source="alertmanager",
    )
    return _out(_intake(request).ingest(n, who))


@router.post("/v1/alerts", response_model=IntakeOut)
def post_alerts(
    body: GenericAlerts | list[GenericAlert],
    request: Request,
    who: Caller = Depends(require(Role.ALERT_SENDER)),
) -> IntakeOut:
    """Alerts from any other source: ``{"alerts": [...]}`` or a bare list."""
    alerts, key = (body, None) if isinstance(body, list) else (body.alerts, body.group_key)
    if not alerts:
        raise Invalid("give at least one alert")
    now = datetime.now(UTC)
    n = Notification(alerts=[a.to_domain(now) for a in alerts], group_key=key, source="generic")
    return _out(_intake(request).ingest(n, who))


@router.get("/v1/alerts", response_model=list[AlertOut])
def list_alerts(
    request: Request,
    _: Caller = Depends(require(Role.VIEWER)),
    status: AlertStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AlertOut]:
    return [_alert_out(v) for v in _reads(request).search(status=status, limit=limit)]


@router.get("/v1/alerts/{fingerprint}", response_model=AlertOut)
def show_alert(
    fingerprint: Fingerprint, request: Request, _: Caller = Depends(require(Role.VIEWER))
) -> AlertOut:
    return _alert_out(_reads(request).get(fingerprint))


@router.get("/v1/investigations/{inv_id}/alerts", response_model=list[AlertOut])
def investigation_alerts(
    inv_id: str, request: Request, _: Caller = Depends(require(Role.VIEWER))
) -> list[AlertOut]:
    """The alerts that started this investigation or that it absorbed."""
    request.app.state.container.investigations.get(inv_id)  # 404 for an unknown id
    return [_alert_out(v) for v in _reads(request).of_investigation(inv_id)]


@router.get("/v1/investigations/{inv_id}/worker/alerts", response_model=WorkerAlertsOut)
def worker_alerts(inv_id: str, request: Request, who: Caller = Depends(worker)) -> WorkerAlertsOut:
    """Every alert of this investigation's group(s), for the worker's list_alerts tool."""
    AlertIntakeService.require_worker(who, inv_id)
    items = _reads(request).of_investigation(inv_id)
    return WorkerAlertsOut(
        alerts=[
            WorkerAlert(
                fingerprint=v.fingerprint,
                status=v.status,
                labels=v.labels,
                annotations=v.annotations,
                starts_at=v.starts_at,
                ends_at=v.ends_at,
                received_count=v.received_count,
            )
            for v in items
        ]
    )
