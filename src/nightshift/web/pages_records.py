"""Console pages that read records: the audit trail, costs and tokens, alerts.

Roles as in the API: chain verification, costs, alerts and routing rules are
for viewers (routes/governance.py, observability.py, alerts.py,
alert_routes.py); the audit records themselves carry the agents' reasoning,
unreviewed shadow output included, so reading them takes the ops-lead role
(GET /v1/audit).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from nightshift.api.deps import AlertReadsDep, AlertRoutesDep, AuditDep, TelemetryDep
from nightshift.domain.alerts import AlertStatus
from nightshift.domain.vocabulary import Role
from nightshift.services.costs import Tokens
from nightshift.services.errors import ServiceError
from nightshift.web.responses import page
from nightshift.web.session import require, signed_in

router = APIRouter(include_in_schema=False)
Id = Annotated[str, Query(max_length=128)]
_ROWS = 200  # the page stays small; the API and CLI page through the rest


@router.get("/audit")
def audit(request: Request, svc: AuditDep, investigation: Id = "", actor: Id = "") -> Response:
    found = signed_in(request)
    require(found, Role.VIEWER)
    report = svc.verify()  # every viewer may know whether the chain holds (GET /v1/audit/verify)
    may_read = found.caller.has(Role.OPS_LEAD)
    records: list[Any] = []
    if may_read:
        records = (
            svc.for_investigation(investigation)
            if investigation
            else svc.recent(_ROWS, actor or None)
        )
    return page(
        request,
        "audit.html",
        found,
        report=report,
        may_read=may_read,
        records=records,
        investigation=investigation,
        actor=actor,
    )


@router.get("/costs")
def costs(
    request: Request,
    telemetry: TelemetryDep,
    days: Annotated[int, Query(ge=1, le=366)] = 30,
    agent: Annotated[str, Query(max_length=63)] = "",
) -> Response:
    found = signed_in(request)
    require(found, Role.VIEWER)
    svc = telemetry.costs
    until = datetime.now(UTC)
    since = until - timedelta(days=days)
    try:
        items = svc.costs(since, until, agent or None)
    except ServiceError as exc:
        return page(request, "error.html", found, status_code=400, problem=str(exc))
    from nightshift.observability.costs import report

    summary = report(items)  # the same grouping GET /v1/costs returns
    tokens: dict[str, Tokens] = svc.tokens([i.id for i in items])
    by_agent: dict[str, Tokens] = defaultdict(Tokens)
    for i in items:
        a, t = by_agent[i.agent], tokens.get(i.id, Tokens())
        by_agent[i.agent] = Tokens(a.input + t.input, a.output + t.output,
                                   a.cached + t.cached, a.calls + t.calls)  # fmt: skip
    top = sorted(items, key=lambda i: (-i.cost.total, i.id))[:_ROWS]
    return page(
        request,
        "costs.html",
        found,
        days=days,
        agent=agent,
        summary=summary,
        whole=summary.total.total or 1.0,  # meters divide by it
        top=top,
        tokens=tokens,
        agent_tokens=by_agent,
        empty=Tokens(),
    )


@router.get("/alerts")
def alerts(
    request: Request,
    reads: AlertReadsDep,
    routing: AlertRoutesDep,
    status: Annotated[str, Query(max_length=16)] = "",
) -> Response:
    found = signed_in(request)
    require(found, Role.VIEWER)
    wanted = AlertStatus(status) if status in set(AlertStatus) else None
    return page(
        request,
        "alerts.html",
        found,
        items=reads.search(status=wanted, limit=_ROWS),
        routes=routing.all(),
        status=wanted.value if wanted else "",
    )
