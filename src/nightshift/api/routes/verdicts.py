"""/v1/investigations/{id}/verdicts, /outcome and /proposals: operators judge
a diagnosis, record the known outcome, and read the agent's proposals."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, status

from nightshift.api.auth import require
from nightshift.api.routes.approvals import proposal_out, proposals
from nightshift.api.schemas_workflow import OutcomeIn, ProposalOut, VerdictIn, VerdictOut
from nightshift.domain.access import Caller
from nightshift.domain.diagnosis import ResourceRef
from nightshift.domain.verdicts import Claim, VerdictKind
from nightshift.domain.vocabulary import Role
from nightshift.services.proposals import sees_hidden
from nightshift.services.reviews import ReviewService
from nightshift.services.verdicts import VerdictService, VerdictView

router = APIRouter(prefix="/v1/investigations/{inv_id}", tags=["verdicts"])


def _verdicts(request: Request) -> VerdictService:
    svc: VerdictService = request.app.state.container.verdicts
    return svc


def _out(v: VerdictView) -> VerdictOut:
    return VerdictOut(
        id=v.id,
        investigation_id=v.investigation_id,
        agent=v.agent,
        kind=v.kind,
        author=v.author,
        minimal_edit=v.minimal_edit,
        correct=v.correct,
        phase=v.phase,
        payload=v.payload,
        created_at=v.created_at,
    )


@router.post("/verdicts", status_code=status.HTTP_201_CREATED, response_model=VerdictOut)
def judge(
    inv_id: str, body: VerdictIn, request: Request, who: Caller = Depends(require(Role.OPERATOR))
) -> VerdictOut:
    modified = Claim(**body.modified.model_dump()) if body.modified else None
    view = _verdicts(request).judge(
        inv_id, who, VerdictKind(body.kind), reason=body.reason, modified=modified
    )
    return _out(view)


@router.get("/verdicts", response_model=list[VerdictOut])
def list_verdicts(
    inv_id: str, request: Request, _: Caller = Depends(require(Role.VIEWER))
) -> list[VerdictOut]:
    return [_out(v) for v in _verdicts(request).list(inv_id)]


@router.post("/outcome", status_code=status.HTTP_201_CREATED, response_model=VerdictOut)
def outcome(
    inv_id: str, body: OutcomeIn, request: Request, who: Caller = Depends(require(Role.OPERATOR))
) -> VerdictOut:
    view = _verdicts(request).record_outcome(
        inv_id,
        who,
        Claim(**body.actual.model_dump()),
        resources=[ResourceRef(**r.model_dump()) for r in body.resources],
        note=body.note,
    )
    return _out(view)


@router.get("/proposals", response_model=list[ProposalOut])
def investigation_proposals(
    inv_id: str, request: Request, who: Caller = Depends(require(Role.VIEWER))
) -> list[ProposalOut]:
    """Every proposal of the investigation; shadow ones only to admins until reviewed."""
    request.app.state.container.investigations.get(inv_id)  # 404 for an unknown id
    reviews: ReviewService = request.app.state.container.reviews
    hidden_ok = sees_hidden(who) or not reviews.conceals(inv_id, who)
    views = proposals(request).list(
        status=None, investigation_id=inv_id, include_hidden=hidden_ok, limit=200
    )
    return [proposal_out(v) for v in views]
