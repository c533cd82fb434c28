"""Worker endpoints: usable only with the token of that one investigation."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header

from nightshift.api.auth import worker
from nightshift.api.deps import (
    CredentialsDep,
    DelegationDep,
    InvestigationsDep,
    ProposalsDep,
    StewardshipDep,
)
from nightshift.api.schemas import (
    Accepted,
    CredentialReads,
    CredentialsOut,
    CredentialValues,
    DelegateRequest,
    GrantOut,
    InvestigationOut,
    RedeemRequest,
    WorkerEvents,
    WorkerResult,
)
from nightshift.api.schemas_workflow import ProposalOut, ProposalsIn
from nightshift.api.view_models import many
from nightshift.domain.access import Caller
from nightshift.domain.agent_codec import identity_to
from nightshift.domain.diagnosis import ResourceRef
from nightshift.domain.vocabulary import InvestigationStatus
from nightshift.services.investigations import InvestigationView, SubmitRequest
from nightshift.services.proposals import ProposalInput, ProposalView
from nightshift.worker_spec import WorkerBriefing, WorkerSpec

router = APIRouter(prefix="/v1/investigations/{inv_id}/worker", tags=["worker"])


@router.get("/spec", response_model=WorkerBriefing)
def spec(
    inv_id: str,
    svc: InvestigationsDep,
    stewardship: StewardshipDep,
    who: Caller = Depends(worker),
) -> WorkerBriefing:
    view = svc.spec_for_worker(inv_id, who)
    identity = stewardship.identity(view.agent)
    return WorkerBriefing(
        id=view.id,
        agent=view.agent,
        trust_phase=view.trust_phase,
        chain_id=view.chain_id,
        spec=WorkerSpec.model_validate(view.spec),
        identity=identity_to(identity),
        llm=stewardship.llm_config(view.agent),
    )


@router.post("/events", response_model=Accepted)
def post_events(
    inv_id: str, body: WorkerEvents, svc: InvestigationsDep, who: Caller = Depends(worker)
) -> Accepted:
    count = svc.append_events(inv_id, who, [(e.kind, e.data) for e in body.events])
    return Accepted(event_count=count)


@router.post("/result", response_model=Accepted)
def post_result(
    inv_id: str, body: WorkerResult, svc: InvestigationsDep, who: Caller = Depends(worker)
) -> Accepted:
    view = svc.post_result(inv_id, who, InvestigationStatus(body.status), body.reason, body.result)
    return Accepted(event_count=view.event_count)


@router.post("/credentials/redeem", response_model=GrantOut)
def redeem(
    inv_id: str, body: RedeemRequest, credentials: CredentialsDep, who: Caller = Depends(worker)
) -> GrantOut:
    """Local broker: exchange the single-use hand-off for this investigation's grant."""
    return GrantOut(grant=credentials.redeem(inv_id, who, body.code))


@router.post("/credentials/read", response_model=CredentialsOut)
def read_credentials(
    inv_id: str, body: CredentialReads, credentials: CredentialsDep, who: Caller = Depends(worker)
) -> CredentialsOut:
    """Local broker: the domains' credentials, within the grant's scope and deadline.
    One read out of scope refuses them all; one with nothing stored comes back null."""
    keys = [(r.domain, r.source) for r in body.reads]
    found = credentials.read_many(inv_id, who, body.grant, keys)
    return CredentialsOut(
        credentials=[
            CredentialValues(domain=d, source=s, values=None if v is None else dict(v))
            for (d, s), v in zip(keys, found, strict=True)
        ]
    )


@router.post("/delegate", status_code=201, response_model=InvestigationOut)
def delegate(
    inv_id: str,
    body: DelegateRequest,
    delegation: DelegationDep,
    who: Caller = Depends(worker),
    nightshift_chain: Annotated[str | None, Header(max_length=1024)] = None,
) -> InvestigationView:
    """Agent -> agent: start a child investigation in this chain (breaker-checked)."""
    return delegation.delegate(
        inv_id,
        who,
        SubmitRequest(
            agent=body.agent,
            title=body.title,
            tier=body.tier,
            scenario=body.scenario,
            domains=tuple(body.domains),
            namespace=body.namespace,
        ),
        nightshift_chain,
    )


@router.post("/proposals", status_code=201, response_model=many(ProposalOut))
def propose(
    inv_id: str, body: ProposalsIn, proposals: ProposalsDep, who: Caller = Depends(worker)
) -> list[ProposalView]:
    """Propose remediation actions (before posting the result); policy decides each."""
    items = [
        ProposalInput(
            action=p.action,
            target=ResourceRef(**p.target.model_dump()),
            confidence=p.confidence,
            hypothesis_id=p.hypothesis_id,
            rationale=p.rationale,
            evidence_ids=tuple(p.evidence_ids),
            params=p.params,
        )
        for p in body.proposals
    ]
    # The worker learns only how each proposal was decided, not operator-side detail.
    return proposals.propose(inv_id, who, items)
