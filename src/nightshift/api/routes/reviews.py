"""/v1/reviews/shadow: the queue of shadow output awaiting after-the-fact review.

The list (viewer) carries no diagnosis; the detail and marking reviewed need
the ops-lead role, since reviewing means reading the hidden output.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from nightshift.api.auth import require
from nightshift.api.deps import ProposalsDep, ReviewsDep
from nightshift.api.schemas_workflow import ProposalOut, ReviewIn, ReviewOut
from nightshift.api.view_models import many
from nightshift.domain.access import Caller
from nightshift.domain.vocabulary import Role
from nightshift.services.concealment import UNCONCEALED
from nightshift.services.reviews import ReviewView

router = APIRouter(prefix="/v1/reviews/shadow", tags=["reviews"])


@router.get("", response_model=many(ReviewOut))
def list_reviews(
    svc: ReviewsDep,
    _: Caller = Depends(require(Role.VIEWER)),
    status: Annotated[str | None, Query(max_length=16, description="open|reviewed|any")] = "open",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[ReviewView]:
    return svc.list(status=None if status == "any" else status, limit=limit)


@router.get("/{item_id}", response_model=ReviewOut)
def show(
    item_id: str,
    svc: ReviewsDep,
    proposals: ProposalsDep,
    _: Caller = Depends(require(Role.OPS_LEAD)),
) -> BaseModel:
    view = svc.get(item_id)
    props = (
        # The reviewer's read: reviewing shadow output means seeing it (ops leads only).
        proposals.of_investigation(view.investigation_id, UNCONCEALED)
        if view.investigation_id
        else []
    )
    # The detail adds the investigation's proposals (hidden ones included) to the view.
    listed = [ProposalOut.model_validate(p) for p in props]
    return ReviewOut.model_validate(view).model_copy(update={"proposals": listed})


@router.post("/{item_id}/review", response_model=ReviewOut)
def mark_reviewed(
    item_id: str,
    svc: ReviewsDep,
    body: ReviewIn | None = None,
    who: Caller = Depends(require(Role.OPS_LEAD)),
) -> ReviewView:
    return svc.mark_reviewed(item_id, who, body.note if body else "")
