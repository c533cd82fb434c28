"""Governance endpoints: owners, suspension, boundaries, phases and gates,
sign-off, demotion review, the kill switch, the review queue and the audit
trail. Routes parse, call one service, and return a typed schema."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, status

from nightshift.api.auth import require
from nightshift.api.deps import AuditDep, KillSwitchDep, PhasesDep, PrincipalsDep, StewardshipDep
from nightshift.api.schemas_governance import (
    AuditRecordOut,
    AuditVerifyOut,
    BoundariesIn,
    Deactivated,
    KillSwitchIn,
    KillSwitchOut,
    PhaseChangeOut,
    PhaseProposalIn,
    PromoteIn,
    Reason,
    RequiredReason,
    ReviewItemOut,
    SignOffIn,
    Stopped,
    Transfer,
    UserCreate,
    UserOut,
)
from nightshift.api.view_models import many
from nightshift.domain.access import Caller
from nightshift.domain.vocabulary import Role, TrustPhase
from nightshift.services.phases import PhaseChange

router = APIRouter(tags=["governance"])
Admin = Depends(require(Role.ADMIN))
Lead = Depends(require(Role.OPS_LEAD))
Viewer = Depends(require(Role.VIEWER))


@router.post("/v1/users", status_code=status.HTTP_201_CREATED, response_model=UserOut)
def create_user(body: UserCreate, principals: PrincipalsDep, _: Caller = Admin) -> UserOut:
    user = principals.create_user(
        body.name, kind=body.kind, roles=frozenset(body.roles), contact=body.contact
    )
    return UserOut(
        name=user.name,
        kind=user.kind,
        roles=sorted(user.roles),
        contact=user.contact,
        active=user.active,
    )


@router.post("/v1/users/{name}/deactivate", response_model=Deactivated)
def deactivate_user(
    name: str, body: Reason, stewardship: StewardshipDep, who: Caller = Admin
) -> Deactivated:
    agents = stewardship.deactivate_user(name, who, body.reason)
    return Deactivated(user=name, suspended_agents=agents)


@router.post("/v1/users/{name}/activate", status_code=status.HTTP_204_NO_CONTENT)
def activate_user(name: str, stewardship: StewardshipDep, who: Caller = Admin) -> None:
    stewardship.activate_user(name, who)


@router.post("/v1/agents/{name}/transfer", status_code=status.HTTP_204_NO_CONTENT)
def transfer(name: str, body: Transfer, stewardship: StewardshipDep, who: Caller = Lead) -> None:
    stewardship.transfer(name, body.new_owner, who, body.reason)


@router.post("/v1/agents/{name}/suspend", status_code=status.HTTP_204_NO_CONTENT)
def suspend(
    name: str, body: RequiredReason, stewardship: StewardshipDep, who: Caller = Lead
) -> None:
    stewardship.suspend(name, who, body.reason)


@router.post("/v1/agents/{name}/resume", status_code=status.HTTP_204_NO_CONTENT)
def resume(name: str, stewardship: StewardshipDep, who: Caller = Lead) -> None:
    stewardship.resume(name, who)


@router.put("/v1/agents/{name}/boundaries", status_code=status.HTTP_204_NO_CONTENT)
def set_boundaries(
    name: str, body: BoundariesIn, stewardship: StewardshipDep, who: Caller = Lead
) -> None:
    stewardship.set_boundaries(name, body.as_data(), who)


@router.put("/v1/agents/{name}/thresholds", status_code=status.HTTP_204_NO_CONTENT)
def set_thresholds(
    name: str, body: dict[str, Any], stewardship: StewardshipDep, who: Caller = Lead
) -> None:
    """Change the thresholds the body names; the others keep their stored values.

    Sections (``to_assist``, ``to_limited``, ``to_autonomous``, ``demotion``)
    merge key by key. An unknown key or a wrongly typed value is a 422 naming
    it; ``null`` switches off an optional gate."""
    stewardship.set_thresholds(name, body, who)


@router.get("/v1/agents/{name}/thresholds")
def get_thresholds(name: str, stewardship: StewardshipDep, _: Caller = Viewer) -> dict[str, Any]:
    """The agent's effective thresholds (seed defaults where none were set)."""
    got: dict[str, Any] = stewardship.thresholds(name)
    return got


@router.put("/v1/agents/{name}/llm", status_code=status.HTTP_204_NO_CONTENT)
def set_llm(
    name: str,
    stewardship: StewardshipDep,
    body: Annotated[dict[str, Any] | None, Body()] = None,
    who: Caller = Lead,
) -> None:
    """The agent's model (provider, model, endpoint, budget, threshold; see docs/llm.md).

    API keys are never part of it: they come from the secret broker. A body
    of ``null`` (or none) removes the configuration."""
    stewardship.set_llm(name, body or None, who)


@router.get("/v1/agents/{name}/phases", response_model=many(PhaseChangeOut))
def phase_history(name: str, phases: PhasesDep, _: Caller = Viewer) -> list[PhaseChange]:
    return phases.history(name)


@router.get("/v1/agents/{name}/gates")
def gates(
    name: str, phases: PhasesDep, _: Caller = Viewer, target: TrustPhase | None = None
) -> dict[str, Any]:
    """Each gate's value against its threshold, the sign-offs, and what is missing."""
    report: dict[str, Any] = phases.gates(name, target).to_dict()
    return report


@router.post("/v1/agents/{name}/signoffs", status_code=status.HTTP_201_CREATED)
def sign_off(
    name: str, body: SignOffIn, phases: PhasesDep, who: Caller = Depends(require(Role.OPERATOR))
) -> dict[str, str]:
    phases.sign_off(name, body.target, body.role, who)
    return {"agent": name, "target": body.target.value, "signed_by": who.name}


@router.post("/v1/agents/{name}/promote", status_code=status.HTTP_204_NO_CONTENT)
def promote(name: str, body: PromoteIn, phases: PhasesDep, who: Caller = Lead) -> None:
    phases.promote(name, body.target, who, body.reason)


@router.post("/v1/agents/{name}/phase-proposals", status_code=status.HTTP_201_CREATED)
def propose_phase(
    name: str, body: PhaseProposalIn, phases: PhasesDep, who: Caller = Lead
) -> dict[str, Any]:
    """Authorize a promotion (gates and sign-offs as for ``promote``) or a demotion for a
    GitOps commit; nothing changes live. Returns the evidence and the audit record."""
    got = phases.propose(name, body.target, who, body.reason, body.environment, body.declared)
    return {
        "agent": got.agent, "kind": got.kind, "from": got.from_phase, "to": got.to_phase,
        "environment": got.environment, "gates": got.gates, "signoffs": got.signoffs,
        "actor": got.actor, "audit_seq": got.audit_seq,
    }  # fmt: skip


@router.post("/v1/agents/{name}/demotion-review", status_code=status.HTTP_204_NO_CONTENT)
def review_demotion(name: str, body: Reason, phases: PhasesDep, who: Caller = Lead) -> None:
    phases.review_demotion(name, who, body.reason)


@router.get("/v1/kill-switch", response_model=KillSwitchOut)
def kill_switch(kill_switch: KillSwitchDep, _: Caller = Viewer) -> KillSwitchOut:
    ks = kill_switch.kill_switch()
    return KillSwitchOut(
        global_engaged=ks.global_engaged, agents=sorted(ks.agents), reason=ks.reason
    )


@router.post("/v1/kill-switch", response_model=Stopped)
def engage(body: KillSwitchIn, kill_switch: KillSwitchDep, who: Caller = Lead) -> Stopped:
    return Stopped(stopped=kill_switch.engage(body.agent, who, body.reason))


@router.post("/v1/kill-switch/release", status_code=status.HTTP_204_NO_CONTENT)
def release(body: KillSwitchIn, kill_switch: KillSwitchDep, who: Caller = Lead) -> None:
    kill_switch.release(body.agent, who, body.reason)


@router.get("/v1/reviews", response_model=list[ReviewItemOut])
def reviews(
    stewardship: StewardshipDep,
    _: Caller = Viewer,
    status_: Annotated[str, Query(alias="status", pattern="^(open|done)$")] = "open",
    kind: Annotated[str | None, Query(max_length=32)] = None,
) -> list[ReviewItemOut]:
    return [ReviewItemOut.model_validate(r) for r in stewardship.reviews(status_, kind)]


@router.get("/v1/audit/verify", response_model=AuditVerifyOut)
def audit_verify(audit: AuditDep, _: Caller = Viewer) -> AuditVerifyOut:
    return AuditVerifyOut.model_validate(audit.verify())


@router.get("/v1/audit", response_model=list[AuditRecordOut])
def audit_records(
    audit: AuditDep,
    _: Caller = Lead,
    investigation: Annotated[str | None, Query(max_length=64)] = None,
    actor: Annotated[str | None, Query(max_length=128)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AuditRecordOut]:
    """The trail of one investigation (who authorized what, under which policy, why).

    Records carry the agents' reasoning, including unreviewed shadow output,
    so reading them takes the ops-lead role (auditors hold it or admin)."""
    svc = audit
    records = svc.for_investigation(investigation) if investigation else svc.recent(limit, actor)
    return [
        AuditRecordOut(seq=r.seq, hash=r.hash, prev_hash=r.prev_hash, record=r.entry.body(r.seq))
        for r in records
    ]
