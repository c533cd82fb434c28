"""/v1/investigations: submit, list, read, follow (SSE), cancel, logs."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, status
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel
from sse_starlette import EventSourceResponse

from nightshift.api.auth import require
from nightshift.api.deps import (
    Admission,
    AdmissionDep,
    EventStreamDep,
    InvestigationsDep,
    WorkerLogsDep,
)
from nightshift.api.schemas import (
    AdmissionOut,
    CancelRequest,
    InvestigationCreate,
    InvestigationOut,
    InvestigationPage,
)
from nightshift.api.sse import MAX_SEQ, event_stream, resume_after
from nightshift.domain.access import Caller
from nightshift.domain.vocabulary import Domain, InvestigationStatus, Role, Tier
from nightshift.services.errors import Forbidden, NotFound
from nightshift.services.investigations import InvestigationView, SubmitRequest

router = APIRouter(prefix="/v1/investigations", tags=["investigations"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=InvestigationOut)
def submit(
    body: InvestigationCreate,
    svc: InvestigationsDep,
    who: Caller = Depends(require(Role.OPERATOR)),
) -> InvestigationView:
    return svc.submit(
        SubmitRequest(
            agent=body.agent,
            title=body.title,
            tier=body.tier,
            priority=body.priority,
            scenario=body.scenario,
            domains=tuple(Domain(d) for d in body.domains),
            namespace=body.namespace,
            alert=body.alert,
            deadline_seconds=body.deadline_seconds,
        ),
        who,
    )


@router.get("", response_model=InvestigationPage)
def list_investigations(
    svc: InvestigationsDep,
    who: Caller = Depends(require(Role.VIEWER)),
    status_: Annotated[InvestigationStatus | None, Query(alias="status")] = None,
    agent: Annotated[str | None, Query(max_length=63)] = None,
    tier: Tier | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=64, pattern=r"^[0-9a-f]+$")] = None,
) -> InvestigationPage:
    page = svc.search(who, status=status_, agent=agent, tier=tier, limit=limit, cursor=cursor)
    return InvestigationPage(
        items=[replace(v, result=None) for v in page.items],  # lists: no result
        next_cursor=page.next_cursor,
    )


@router.get("/{inv_id}", response_model=InvestigationOut)
def get_investigation(
    inv_id: str,
    svc: InvestigationsDep,
    admission: AdmissionDep,
    who: Caller = Depends(require(Role.VIEWER)),
) -> BaseModel:
    view = svc.get(inv_id, who)  # concealed while its shadow output awaits review
    out = InvestigationOut.model_validate(view)
    if view.status != InvestigationStatus.DISPATCHED:
        return out
    return out.model_copy(update={"admission": _admission(admission, inv_id)})


def _admission(admission: Admission, inv_id: str) -> AdmissionOut | None:
    """A dispatched unit that has not started may be waiting in Kueue's queue."""
    found = admission(inv_id)
    if found is None:
        return None
    return AdmissionOut(
        state=str(found.state),
        reason=found.reason,
        queue=found.local_queue,
        position_in_local_queue=found.position_in_local_queue,
    )


@router.post("/{inv_id}/cancel", response_model=InvestigationOut)
def cancel(
    inv_id: str,
    svc: InvestigationsDep,
    body: CancelRequest | None = None,
    who: Caller = Depends(require(Role.OPERATOR)),
) -> InvestigationView:
    return svc.cancel(inv_id, who, body.reason if body else "")


@router.get("/{inv_id}/logs", response_class=PlainTextResponse)
def worker_log(
    inv_id: str,
    svc: InvestigationsDep,
    logs: WorkerLogsDep,
    who: Caller = Depends(require(Role.VIEWER)),
    tail_bytes: Annotated[int, Query(ge=1, le=10_000_000)] = 1_000_000,
) -> str:
    if svc.conceals(inv_id, who):  # NotFound for unknown ids
        raise Forbidden("this shadow-phase investigation's output awaits review")
    text = logs(inv_id, tail_bytes)
    if text is None:
        raise NotFound(f"investigation {inv_id!r} has no worker log (yet)")
    return str(text)


@router.get("/{inv_id}/events")
async def events(
    inv_id: str,
    svc: InvestigationsDep,
    bus: EventStreamDep,
    who: Caller = Depends(require(Role.VIEWER)),
    after: Annotated[int, Query(ge=0, le=MAX_SEQ)] = 0,
    follow: bool = True,
    last_event_id: Annotated[str | None, Header()] = None,
) -> EventSourceResponse:
    """Server-sent events: the history after ``after`` (or Last-Event-ID), then live."""
    await asyncio.to_thread(svc.get, inv_id, who)  # 404 before the stream starts
    after = max(after, resume_after(last_event_id))
    return event_stream(svc, bus, who, inv_id, after, follow=follow)
