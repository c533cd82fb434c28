"""/v1/alerts: intake (Alertmanager webhook v4, generic), reads, and the alerts
an investigation absorbed (for people and for its worker)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from nightshift.api.auth import require, worker
from nightshift.api.deps import AlertIntakeDep, AlertReadsDep, InvestigationsDep
from nightshift.api.schemas_alerts import (
    AlertmanagerWebhook,
    AlertOut,
    GenericAlert,
    GenericAlerts,
    IntakeOut,
    WorkerAlert,
    WorkerAlertsOut,
)
from nightshift.api.view_models import many
from nightshift.domain.access import Caller
from nightshift.domain.alerts import AlertStatus, Notification
from nightshift.domain.vocabulary import Role
from nightshift.services.alert_store import AlertView
from nightshift.services.alerts import AlertIntakeService, IntakeResult
from nightshift.services.errors import Invalid

router = APIRouter(tags=["alerts"])
Fingerprint = Annotated[str, Path(max_length=128)]


def _out(r: IntakeResult) -> IntakeOut:
    return IntakeOut(received=r.received, created=r.created, updated=r.updated,
                     groups=list(r.groups), started=list(r.started), pending=r.pending)  # fmt: skip


@router.post("/v1/alerts/alertmanager", response_model=IntakeOut)
def alertmanager_webhook(
    body: AlertmanagerWebhook,
    intake: AlertIntakeDep,
    who: Caller = Depends(require(Role.ALERT_SENDER)),
) -> IntakeOut:
    """Alertmanager's webhook receiver (payload version 4)."""
    n = Notification(
        alerts=[a.to_domain() for a in body.alerts],
        group_key=body.group_key,
        receiver=body.receiver,
        source="alertmanager",
    )
    return _out(intake.ingest(n, who))


@router.post("/v1/alerts", response_model=IntakeOut)
def post_alerts(
    body: GenericAlerts | list[GenericAlert],
    intake: AlertIntakeDep,
    who: Caller = Depends(require(Role.ALERT_SENDER)),
) -> IntakeOut:
    """Alerts from any other source: ``{"alerts": [...]}`` or a bare list."""
    alerts, key = (body, None) if isinstance(body, list) else (body.alerts, body.group_key)
    if not alerts:
        raise Invalid("give at least one alert")
    now = datetime.now(UTC)
    n = Notification(alerts=[a.to_domain(now) for a in alerts], group_key=key, source="generic")
    return _out(intake.ingest(n, who))


@router.get("/v1/alerts", response_model=many(AlertOut))
def list_alerts(
    reads: AlertReadsDep,
    _: Caller = Depends(require(Role.VIEWER)),
    status: AlertStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AlertView]:
    return reads.search(status=status, limit=limit)


@router.get("/v1/alerts/{fingerprint}", response_model=AlertOut)
def show_alert(
    fingerprint: Fingerprint, reads: AlertReadsDep, _: Caller = Depends(require(Role.VIEWER))
) -> AlertView:
    return reads.get(fingerprint)


@router.get("/v1/investigations/{inv_id}/alerts", response_model=many(AlertOut))
def investigation_alerts(
    inv_id: str,
    investigations: InvestigationsDep,
    reads: AlertReadsDep,
    who: Caller = Depends(require(Role.VIEWER)),
) -> list[AlertView]:
    """The alerts that started this investigation or that it absorbed."""
    investigations.get(inv_id, who)  # 404 for an unknown id
    return reads.of_investigation(inv_id)


@router.get("/v1/investigations/{inv_id}/worker/alerts", response_model=WorkerAlertsOut)
def worker_alerts(
    inv_id: str, reads: AlertReadsDep, who: Caller = Depends(worker)
) -> WorkerAlertsOut:
    """Every alert of this investigation's group(s), for the worker's list_alerts tool."""
    AlertIntakeService.require_worker(who, inv_id)
    items = reads.of_investigation(inv_id)
    return WorkerAlertsOut(alerts=[WorkerAlert.model_validate(v) for v in items])
