"""/v1/reviews/shadow: the queue of shadow output awaiting after-the-fact review.

The list (viewer) carries no diagnosis; the detail and marking reviewed need
the ops-lead role, since reviewing means reading the hidden output.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from nightshift.api.auth import require
from nightshift.api.routes.approvals import proposal_out, proposals
from nightshift.api.schemas_workflow import ReviewIn, ReviewOut
from nightshift.domain.access import Caller
from nightshift.domain.vocabulary import Role
from nightshift.services.reviews import ReviewService

router = APIRouter(prefix="/v1/reviews/shadow", tags=["reviews"])


def _svc(request: Request) -> ReviewService:
    svc: ReviewService = request.app.state.container.reviews
    return svc


@router.get("", response_model=list[ReviewOut])
def list_reviews(
    request: Request,
    _: Caller = Depends(require(Role.VIEWER)),
    status: Annotated[str | None, Query(max_length=16, description="open|reviewed|any")] = "open",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[ReviewOut]:
    views = _svc(request).list(status=None if status == "any" else status, limit=limit)
    return [ReviewOut(**asdict(v)) for v in views]


@router.get("/{item_id}", response_model=ReviewOut)
def show(item_id: str, request: Request, _: Caller = Depends(require(Role.OPS_LEAD))) -> ReviewOut:
    view = _svc(request).get(item_id)
    props = (
        proposals(request).list(
            status=None, investigation_id=view.investigation_id, include_hidden=True, limit=200
        )
        if view.investigation_id
        else []
    )
    return ReviewOut(**asdict(view), proposals=[proposal_out(p) for p in props])


@router.post("/{item_id}/review", response_model=ReviewOut)
def mark_reviewed(
    item_id: str,
    request: Request,
    body: ReviewIn | None = None,
    who: Caller = Depends(require(Role.OPS_LEAD)),
) -> ReviewOut:
    return ReviewOut(**asdict(_svc(request).mark_reviewed(item_id, who, body.note if body else "")))
