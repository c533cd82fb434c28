"""Worker endpoints: usable only with the token of that one investigation."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from nightshift.api.auth import worker
from nightshift.api.routes.investigations import service
from nightshift.api.schemas import Accepted, WorkerEvents, WorkerResult, WorkerSpecOut
from nightshift.domain.access import Caller
from nightshift.domain.vocabulary import InvestigationStatus

router = APIRouter(prefix="/v1/investigations/{inv_id}/worker", tags=["worker"])


@router.get("/spec", response_model=WorkerSpecOut)
def spec(inv_id: str, request: Request, who: Caller = Depends(worker)) -> WorkerSpecOut:
    view = service(request).spec_for_worker(inv_id, who)
    return WorkerSpecOut(
        id=view.id, agent=view.agent, trust_phase=view.trust_phase, spec=dict(view.spec)
    )


@router.post("/events", response_model=Accepted)
def post_events(
    inv_id: str, body: WorkerEvents, request: Request, who: Caller = Depends(worker)
) -> Accepted:
    count = service(request).append_events(inv_id, who, [(e.kind, e.data) for e in body.events])
    return Accepted(event_count=count)


@router.post("/result", response_model=Accepted)
def post_result(
    inv_id: str, body: WorkerResult, request: Request, who: Caller = Depends(worker)
) -> Accepted:
    view = service(request).post_result(
        inv_id, who, InvestigationStatus(body.status), body.reason, body.result
    )
    return Accepted(event_count=view.event_count)
