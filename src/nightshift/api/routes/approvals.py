"""/v1/approvals: approval requests (and other proposals) -- list, show,
approve (as asked or a modified target), reject, roll back."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from nightshift.api.auth import require
from nightshift.api.schemas_workflow import ApproveIn, ProposalOut, ReasonIn
from nightshift.domain.access import Caller
from nightshift.domain.diagnosis import ResourceRef
from nightshift.domain.vocabulary import Role
from nightshift.services.approvals import ApprovalService
from nightshift.services.execution import ExecutionService
from nightshift.services.proposals import PENDING, ProposalService, ProposalView, sees_hidden

router = APIRouter(prefix="/v1/approvals", tags=["approvals"])


def proposals(request: Request) -> ProposalService:
    svc: ProposalService = request.app.state.container.proposals
    return svc


def _approvals(request: Request) -> ApprovalService:
    svc: ApprovalService = request.app.state.container.approvals
    return svc


def _execution(request: Request) -> ExecutionService:
    svc: ExecutionService = request.app.state.container.execution
    return svc


def proposal_out(view: ProposalView) -> ProposalOut:
    return ProposalOut(**asdict(view))


@router.get("", response_model=list[ProposalOut])
def list_approvals(
    request: Request,
    who: Caller = Depends(require(Role.VIEWER)),
    status: Annotated[str | None, Query(max_length=32, description="'any' for all")] = PENDING,
    agent: Annotated[str | None, Query(max_length=63)] = None,
    investigation: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[ProposalOut]:
    views = proposals(request).list(
        status=None if status == "any" else status,
        agent=agent,
        investigation_id=investigation,
        include_hidden=sees_hidden(who),
        limit=limit,
    )
    return [proposal_out(v) for v in views]


@router.get("/{proposal_id}", response_model=ProposalOut)
def show(
    proposal_id: str, request: Request, who: Caller = Depends(require(Role.VIEWER))
) -> ProposalOut:
    return proposal_out(proposals(request).get(proposal_id, include_hidden=sees_hidden(who)))


@router.post("/{proposal_id}/approve", response_model=ProposalOut)
def approve(
    proposal_id: str,
    request: Request,
    body: ApproveIn | None = None,
    who: Caller = Depends(require(Role.OPERATOR)),
) -> ProposalOut:
    body = body or ApproveIn()
    target = ResourceRef(**body.target.model_dump()) if body.target else None
    view = _approvals(request).approve(
        proposal_id, who, reason=body.reason, target=target, params=body.params
    )
    return proposal_out(view)


@router.post("/{proposal_id}/reject", response_model=ProposalOut)
def reject(
    proposal_id: str,
    body: ReasonIn,
    request: Request,
    who: Caller = Depends(require(Role.OPERATOR)),
) -> ProposalOut:
    return proposal_out(_approvals(request).reject(proposal_id, who, reason=body.reason))


@router.post("/{proposal_id}/rollback", response_model=ProposalOut)
def rollback(
    proposal_id: str,
    body: ReasonIn,
    request: Request,
    who: Caller = Depends(require(Role.OPERATOR)),
) -> ProposalOut:
    """Undo an executed action through its catalog inverse (counted for demotion)."""
    return proposal_out(_execution(request).rollback(proposal_id, who, body.reason))
