"""/v1/agents: the registry of accountable agent identities."""

from __future__ import annotations

from fastapi import APIRouter, Depends, status

from nightshift.api.auth import require
from nightshift.api.deps import AgentsDep
from nightshift.api.schemas import AgentCreate, AgentOut
from nightshift.api.view_models import many
from nightshift.domain.access import Caller
from nightshift.domain.vocabulary import Role
from nightshift.services.agents import AgentView

router = APIRouter(prefix="/v1/agents", tags=["agents"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=AgentOut)
def register_agent(
    body: AgentCreate,
    svc: AgentsDep,
    who: Caller = Depends(require(Role.OPS_LEAD)),
) -> AgentView:
    return svc.register(
        body.name,
        owner=body.owner,
        authority_class=body.authority_class.value,
        trust_phase=body.trust_phase.value,
        description=body.description,
        caller=who,
    )


@router.get("", response_model=many(AgentOut))
def list_agents(svc: AgentsDep, _: Caller = Depends(require(Role.VIEWER))) -> list[AgentView]:
    return svc.list()


@router.get("/{name}", response_model=AgentOut)
def get_agent(name: str, svc: AgentsDep, _: Caller = Depends(require(Role.VIEWER))) -> AgentView:
    return svc.get(name)
