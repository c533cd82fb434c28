"""/v1/investigations/{id}/verdicts, /outcome and /proposals: operators judge
a diagnosis, record the known outcome, and read the agent's proposals."""

from __future__ import annotations

from fastapi import APIRouter, Depends, status

from nightshift.api.auth import require
from nightshift.api.deps import InvestigationsDep, ProposalsDep, VerdictsDep
from nightshift.api.schemas_workflow import OutcomeIn, ProposalOut, VerdictIn, VerdictOut
from nightshift.api.view_models import many
from nightshift.domain.access import Caller
from nightshift.domain.diagnosis import ResourceRef
from nightshift.domain.verdicts import Claim, VerdictKind
from nightshift.domain.vocabulary import Role
from nightshift.services.proposals import ProposalView
from nightshift.services.verdicts import VerdictView

router = APIRouter(prefix="/v1/investigations/{inv_id}", tags=["verdicts"])


@router.post("/verdicts", status_code=status.HTTP_201_CREATED, response_model=VerdictOut)
def judge(
    inv_id: str, body: VerdictIn, svc: VerdictsDep, who: Caller = Depends(require(Role.OPERATOR))
) -> VerdictView:
    modified = Claim(**body.modified.model_dump()) if body.modified else None
    return svc.judge(inv_id, who, VerdictKind(body.kind), reason=body.reason, modified=modified)


@router.get("/verdicts", response_model=many(VerdictOut))
def list_verdicts(
    inv_id: str, svc: VerdictsDep, _: Caller = Depends(require(Role.VIEWER))
) -> list[VerdictView]:
    return svc.list(inv_id)


@router.post("/outcome", status_code=status.HTTP_201_CREATED, response_model=VerdictOut)
def outcome(
    inv_id: str, body: OutcomeIn, svc: VerdictsDep, who: Caller = Depends(require(Role.OPERATOR))
) -> VerdictView:
    return svc.record_outcome(
        inv_id,
        who,
        Claim(**body.actual.model_dump()),
        resources=[ResourceRef(**r.model_dump()) for r in body.resources],
        note=body.note,
    )


@router.get("/proposals", response_model=many(ProposalOut))
def investigation_proposals(
    inv_id: str,
    investigations: InvestigationsDep,
    proposals: ProposalsDep,
    who: Caller = Depends(require(Role.VIEWER)),
) -> list[ProposalView]:
    """Every proposal of the investigation; shadow ones only to admins until reviewed."""
    investigations.get(inv_id, who)  # 404 for an unknown id
    return proposals.of_investigation(inv_id, who)
