"""/v1/approvals: approval requests (and other proposals) -- list, show,
approve (as asked or a modified target), reject, roll back.

Every endpoint answers ``ProposalOut``, not an ``ApprovalOut``: an approval
request is a proposal in ``pending_approval``, and each action here is a
transition of that proposal, answered with the proposal as it now stands (see
docs/workflow.md, "Endpoints")."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from nightshift.api.auth import require
from nightshift.api.deps import ApprovalsDep, ExecutionDep, ProposalsDep
from nightshift.api.schemas_workflow import ApproveIn, ProposalOut, ReasonIn
from nightshift.api.view_models import many
from nightshift.domain.access import Caller
from nightshift.domain.diagnosis import ResourceRef
from nightshift.domain.vocabulary import Role
from nightshift.services.proposals import PENDING, ProposalView

router = APIRouter(prefix="/v1/approvals", tags=["approvals"])


@router.get("", response_model=many(ProposalOut))
def list_approvals(
    svc: ProposalsDep,
    who: Caller = Depends(require(Role.VIEWER)),
    status: Annotated[str | None, Query(max_length=32, description="'any' for all")] = PENDING,
    agent: Annotated[str | None, Query(max_length=63)] = None,
    investigation: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[ProposalView]:
    return svc.list(
        who,
        status=None if status == "any" else status,
        agent=agent,
        investigation_id=investigation,
        limit=limit,
    )


@router.get("/{proposal_id}", response_model=ProposalOut)
def show(
    proposal_id: str, svc: ProposalsDep, who: Caller = Depends(require(Role.VIEWER))
) -> ProposalView:
    return svc.get(proposal_id, who)


@router.post("/{proposal_id}/approve", response_model=ProposalOut)
def approve(
    proposal_id: str,
    svc: ApprovalsDep,
    body: ApproveIn | None = None,
    who: Caller = Depends(require(Role.OPERATOR)),
) -> ProposalView:
    body = body or ApproveIn()
    target = ResourceRef(**body.target.model_dump()) if body.target else None
    return svc.approve(proposal_id, who, reason=body.reason, target=target, params=body.params)


@router.post("/{proposal_id}/reject", response_model=ProposalOut)
def reject(
    proposal_id: str,
    body: ReasonIn,
    svc: ApprovalsDep,
    who: Caller = Depends(require(Role.OPERATOR)),
) -> ProposalView:
    return svc.reject(proposal_id, who, reason=body.reason)


@router.post("/{proposal_id}/rollback", response_model=ProposalOut)
def rollback(
    proposal_id: str,
    body: ReasonIn,
    svc: ExecutionDep,
    who: Caller = Depends(require(Role.OPERATOR)),
) -> ProposalView:
    """Undo an executed action through its catalog inverse (counted for demotion)."""
    return svc.rollback(proposal_id, who, body.reason)
