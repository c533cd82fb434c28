"""Console pages that read: sign-in, investigations (list, one, live), approvals, agents.

Each reads through the API's services as the signed-in caller, so shadow output
stays concealed exactly as in /v1: the services decide it (``services/concealment``).
The services come as the API routes get them, declared (``api/deps.py``).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Header, Query, Request
from fastapi.responses import PlainTextResponse
from starlette.responses import Response

from nightshift.api.deps import (
    AgentsDep,
    AlertReadsDep,
    ChangesDep,
    ConsoleSessionsDep,
    EventStreamDep,
    InvestigationsDep,
    PhasesDep,
    ProposalsDep,
    SettingsDep,
    TelemetryDep,
    VerdictsDep,
    WorkerLogsDep,
)
from nightshift.api.sse import MAX_SEQ, event_stream, resume_after
from nightshift.domain.vocabulary import InvestigationStatus, Role
from nightshift.services.changes import ChangeQuery
from nightshift.services.errors import Invalid, ServiceError
from nightshift.services.proposals import PENDING
from nightshift.web import views
from nightshift.web.links import local_path
from nightshift.web.responses import page, redirect, secure
from nightshift.web.session import COOKIE, check_csrf, current, require, set_cookie, signed_in

router = APIRouter(include_in_schema=False)
_LOG_TAIL_BYTES = 64 * 1024  # the page stays small; the API serves the whole log
# The Steps table shows the newest this many events; the timeline above it
# summarizes the whole run and the API (GET /v1/investigations/ID/events) has all.
_STEPS_SHOWN = 300
# Changes in the feed this long before an investigation started count as its lead-up.
_CHANGES_BEFORE = timedelta(hours=2)


@router.get("/")
def home() -> Response:
    return redirect("/investigations")


@router.get("/login")
def login_form(request: Request) -> Response:
    return page(request, "login.html", None, problem="")


@router.post("/login")
def login(
    request: Request,
    sessions: ConsoleSessionsDep,
    settings: SettingsDep,
    token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    try:
        opened = sessions.sign_in(token)
    except Invalid as exc:
        return page(request, "login.html", None, status_code=401, problem=str(exc))
    resp = redirect("/investigations")
    set_cookie(resp, request, opened.secret, opened.session.expires_at, settings)
    return resp


@router.get("/login/link")
def login_link(
    request: Request,
    sessions: ConsoleSessionsDep,
    settings: SettingsDep,
    secret: Annotated[str, Query(max_length=200)] = "",
    next: Annotated[str, Query(max_length=500)] = "/investigations",
) -> Response:
    """A one-time sign-in link (``nightshift users sign-in-link``; ``scripts/demo``
    prints one), then on to ``next``, a path on this server only."""
    try:
        opened = sessions.redeem_link(secret)
    except Invalid as exc:
        return page(request, "login.html", None, status_code=401, problem=str(exc))
    resp = redirect(local_path(next) or "/investigations")
    set_cookie(resp, request, opened.secret, opened.session.expires_at, settings)
    return resp


@router.post("/logout")
def logout(
    request: Request,
    sessions: ConsoleSessionsDep,
    csrf: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    found = signed_in(request)
    check_csrf(found, csrf)
    sessions.sign_out(request.cookies.get(COOKIE, ""))
    resp = redirect("/login")
    resp.delete_cookie(COOKIE, path="/")
    return resp


@router.get("/investigations")
def investigations(
    request: Request, svc: InvestigationsDep, status: Annotated[str, Query(max_length=32)] = ""
) -> Response:
    found = signed_in(request)
    who = require(found, Role.VIEWER)
    wanted = InvestigationStatus(status) if status in set(InvestigationStatus) else None
    items = svc.search(who, status=wanted, agent=None, tier=None, limit=100)
    rows: list[dict[str, Any]] = []
    for v in items.items:  # each as `who` may see it
        diag = views.complete(views.diagnosis_of(v.result))
        top = (diag.get("root_causes") or [{}])[0]
        rows.append({"v": v, "top": top, "alerts": _alerts(v.spec)})
    return page(request, "investigations.html", found, rows=rows, status=status)


@router.get("/investigations/{inv_id}")
def investigation(
    request: Request,
    inv_id: str,
    svc: InvestigationsDep,
    alert_reads: AlertReadsDep,
    change_feed: ChangesDep,
    proposals: ProposalsDep,
    verdicts: VerdictsDep,
    logs: WorkerLogsDep,
    telemetry: TelemetryDep,
) -> Response:
    found = signed_in(request)
    who = require(found, Role.VIEWER)
    try:
        view = svc.get(inv_id, who)  # what `who` may see, as every read below
        hide = svc.conceals(inv_id, who)
    except ServiceError as exc:
        return page(request, "error.html", found, status_code=404, problem=str(exc))
    diag = views.complete(views.diagnosis_of(view.result))
    hyps = list(diag.get("hypotheses") or [])
    timeline = []
    for ev in svc.events(inv_id, who, 0, limit=_STEPS_SHOWN, newest=True):
        timeline.append((ev, views.timeline_text(ev.kind, ev.data)))
    # What the chronology reads of the whole run: cycles and status changes.
    shown = svc.events(inv_id, who, 0, limit=2000, kinds=views.CHRONOLOGY_EVENTS)
    alerts = alert_reads.of_investigation(inv_id)  # as GET /v1/investigations/ID/alerts
    end = view.finished_at or datetime.now(UTC)
    changes = [  # as GET /v1/changes (viewer), in the investigation's window
        ch
        for ch in change_feed.list(ChangeQuery(since=view.created_at - _CHANGES_BEFORE, limit=50))
        if _aware(ch.at) <= _aware(end)
    ]
    props = proposals.of_investigation(inv_id, who, limit=50)  # as GET .../ID/proposals
    # The worker's own log, as GET /v1/investigations/ID/logs shows it (tail only).
    log = None if hide else logs(inv_id, _LOG_TAIL_BYTES)
    costs = telemetry.costs  # as GET /v1/investigations/ID/cost (viewer)
    tokens = costs.tokens([inv_id]).get(inv_id)
    return page(
        request,
        "investigation.html",
        found,
        log=log,
        v=view,
        hidden=hide,
        diag=diag,
        tree=views.hypothesis_tree(hyps),
        inline=views.inline_evidence(diag.get("evidence") or []),
        chronology=views.chronology(alerts, changes, shown),
        stances=views.stances(hyps),
        timeline=timeline,
        # seq counts an investigation's events from 1: what the table leaves out.
        steps_omitted=max(0, timeline[0][0].seq - 1) if timeline else 0,
        last_seq=timeline[-1][0].seq if timeline else 0,
        proposals=props,
        verdicts=verdicts.list(inv_id),
        cost=costs.investigation(inv_id).cost,
        tokens=tokens,
        alerts=alerts,
    )


@router.get("/investigations/{inv_id}/evidence/{evidence_id}")
def evidence(request: Request, inv_id: str, evidence_id: str, svc: InvestigationsDep) -> Response:
    """One evidence item's tool text, as plain text: what an unfolded row loads
    (and what its link opens without JavaScript). Inert by its media type."""
    found = signed_in(request)
    who = require(found, Role.VIEWER)
    try:
        view = svc.get(inv_id, who)
        hidden = svc.conceals(inv_id, who)
    except ServiceError as exc:
        return secure(PlainTextResponse(str(exc), status_code=404))
    if hidden:
        return secure(PlainTextResponse("concealed until reviewed", status_code=404))
    diag = views.complete(views.diagnosis_of(view.result))
    for e in diag.get("evidence") or []:
        if str(e.get("id")) == evidence_id:
            return secure(PlainTextResponse(views.evidence_text(e)))
    return secure(PlainTextResponse(f"no evidence {evidence_id}", status_code=404))


@router.get("/investigations/{inv_id}/events")
async def live(
    request: Request,
    inv_id: str,
    svc: InvestigationsDep,
    bus: EventStreamDep,
    after: Annotated[int, Query(ge=0, le=MAX_SEQ)] = 0,
    last_event_id: Annotated[str | None, Header()] = None,
) -> Response:
    """The API's SSE stream, authenticated by the console cookie (EventSource
    cannot send a bearer header)."""
    found = current(request)
    if found is None:
        return secure(Response("sign in first", status_code=401))
    who = require(found, Role.VIEWER)
    await asyncio.to_thread(svc.get, inv_id, who)  # 404 before the stream starts
    after = max(after, resume_after(last_event_id))  # EventSource reconnects with it
    return secure(event_stream(svc, bus, who, inv_id, after, follow=True))


@router.get("/approvals")
def approvals(
    request: Request, svc: ProposalsDep, status: Annotated[str, Query(max_length=32)] = ""
) -> Response:
    found = signed_in(request)
    who = require(found, Role.VIEWER)
    items = svc.list(
        who,
        status=None if status == "any" else (status or PENDING),  # as the API's defaults
        agent=None,
        investigation_id=None,
        limit=100,
    )
    return page(request, "approvals.html", found, items=items, status=status)


@router.get("/agents")
def agents(request: Request, registry: AgentsDep, phases: PhasesDep) -> Response:
    found = signed_in(request)
    require(found, Role.VIEWER)
    rows = []
    for a in registry.list():
        gates: dict[str, Any] = {}
        try:
            gates = phases.gates(a.name, None).to_dict()
        except ServiceError as exc:  # e.g. already at the last phase
            gates = {"problem": str(exc)}
        rows.append({"a": a, "gates": gates})
    # After a GitOps promotion: what the reviewer needs, read from Git (actions.promote)
    git = phases.proposals_git
    branch = request.query_params.get("branch", "")
    review = (git.review(branch) if git is not None and branch else None) or ""
    gitops = git is not None  # the button writes a commit, not a change
    return page(request, "agents.html", found, rows=rows, review=review, gitops=gitops)


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _alerts(spec: Any) -> int:
    alerts = spec.get("alerts") if isinstance(spec, dict) else None
    return len(alerts) if isinstance(alerts, list) else (1 if spec and spec.get("alert") else 0)
