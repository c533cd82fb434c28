"""/v1/escalations: cases handed to humans -- list, show, acknowledge, resolve."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from nightshift.api.auth import require
from nightshift.api.deps import EscalationsDep
from nightshift.api.schemas_workflow import AckIn, EscalationOut, ResolveIn
from nightshift.api.view_models import many
from nightshift.domain.access import Caller
from nightshift.domain.vocabulary import Role
from nightshift.services.escalations import EscalationView

router = APIRouter(prefix="/v1/escalations", tags=["escalations"])


@router.get("", response_model=many(EscalationOut))
def list_escalations(
    svc: EscalationsDep,
    _: Caller = Depends(require(Role.VIEWER)),
    status: Annotated[str | None, Query(max_length=16, description="open|acked|resolved")] = None,
    agent: Annotated[str | None, Query(max_length=63)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[EscalationView]:
    return svc.list(status=status, agent=agent, limit=limit)


@router.get("/{esc_id}", response_model=EscalationOut)
def show(
    esc_id: str, svc: EscalationsDep, _: Caller = Depends(require(Role.VIEWER))
) -> EscalationView:
    return svc.get(esc_id)


@router.post("/{esc_id}/ack", response_model=EscalationOut)
def ack(
    esc_id: str,
    svc: EscalationsDep,
    body: AckIn | None = None,
    who: Caller = Depends(require(Role.OPERATOR)),
) -> EscalationView:
    return svc.ack(esc_id, who, body.note if body else "")


@router.post("/{esc_id}/resolve", response_model=EscalationOut)
def resolve(
    esc_id: str, body: ResolveIn, svc: EscalationsDep, who: Caller = Depends(require(Role.OPERATOR))
) -> EscalationView:
    return svc.resolve(esc_id, who, warranted=body.warranted, resolution=body.resolution)
