"""/v1/escalations: cases handed to humans -- list, show, acknowledge, resolve."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from nightshift.api.auth import require
from nightshift.api.schemas_workflow import AckIn, EscalationOut, ResolveIn
from nightshift.domain.access import Caller
from nightshift.domain.vocabulary import Role
from nightshift.services.escalations import EscalationService

router = APIRouter(prefix="/v1/escalations", tags=["escalations"])


def _svc(request: Request) -> EscalationService:
    svc: EscalationService = request.app.state.container.escalations
    return svc


@router.get("", response_model=list[EscalationOut])
def list_escalations(
    request: Request,
    _: Caller = Depends(require(Role.VIEWER)),
    status: Annotated[str | None, Query(max_length=16, description="open|acked|resolved")] = None,
    agent: Annotated[str | None, Query(max_length=63)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[EscalationOut]:
    views = _svc(request).list(status=status, agent=agent, limit=limit)
    return [EscalationOut(**asdict(v)) for v in views]


@router.get("/{esc_id}", response_model=EscalationOut)
def show(esc_id: str, request: Request, _: Caller = Depends(require(Role.VIEWER))) -> EscalationOut:
    return EscalationOut(**asdict(_svc(request).get(esc_id)))


@router.post("/{esc_id}/ack", response_model=EscalationOut)
def ack(
    esc_id: str,
    request: Request,
    body: AckIn | None = None,
    who: Caller = Depends(require(Role.OPERATOR)),
) -> EscalationOut:
    return EscalationOut(**asdict(_svc(request).ack(esc_id, who, body.note if body else "")))


@router.post("/{esc_id}/resolve", response_model=EscalationOut)
def resolve(
    esc_id: str, body: ResolveIn, request: Request, who: Caller = Depends(require(Role.OPERATOR))
) -> EscalationOut:
    view = _svc(request).resolve(esc_id, who, warranted=body.warranted, resolution=body.resolution)
    return EscalationOut(**asdict(view))
