"""Alert intake: routing rules, grouping, storm limits (docs/alerts.md)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from nightshift.services.alert_routes import AlertRouteService
from nightshift.services.alert_store import AlertReads
from nightshift.services.alerts import AlertIntakeService, IntakePolicy
from nightshift.services.escalations import EscalationService
from nightshift.services.investigations import InvestigationService
from nightshift.settings import Settings
from nightshift.store.database import Database


@dataclass(frozen=True)
class Alerts:
    intake: AlertIntakeService
    routes: AlertRouteService
    reads: AlertReads


def make_alerts(
    settings: Settings,
    db: Database,
    investigations: InvestigationService,
    escalations: EscalationService,
    refusal: Callable[[str], str | None],
) -> Alerts:
    routes = AlertRouteService(db)
    intake = AlertIntakeService(
        db,
        routes,
        investigations,
        escalations,
        IntakePolicy(
            max_investigations_per_minute=settings.alerts_max_investigations_per_minute,
            cancel_on_resolve=settings.alerts_cancel_on_resolve,
        ),
        refusal=refusal,
    )
    return Alerts(intake=intake, routes=routes, reads=AlertReads(db))
