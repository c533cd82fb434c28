"""/v1/agents: the registry of accountable agent identities."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, status

from nightshift.api.auth import require
from nightshift.api.schemas import AgentCreate, AgentOut
from nightshift.domain.access import Caller
from nightshift.domain.vocabulary import Role
from nightshift.services.agents import AgentService, AgentView

router = APIRouter(prefix="/v1/agents", tags=["agents"])


def _agents(request: Request) -> AgentService:
    service: AgentService = request.app.state.container.agents
    return service


def _out(view: AgentView) -> AgentOut:
    return AgentOut(
        id=view.id,
        name=view.name,
        owner=view.owner,
        owner_contact=view.owner_contact,
        owner_active=view.owner_active,
        authority_class=view.authority_class,
        trust_phase=view.trust_phase,
        status=view.status,
        status_reason=view.status_reason,
        description=view.description,
        created_at=view.created_at,
    )


@router.post("", status_code=status.HTTP_201_CREATED, response_model=AgentOut)
def register_agent(
    body: AgentCreate,
    request: Request,
    who: Caller = Depends(require(Role.OPS_LEAD)),
) -> AgentOut:
    view = _agents(request).register(
        body.name,
        owner=body.owner,
        authority_class=body.authority_class.value,
        trust_phase=body.trust_phase.value,
        description=body.description,
        caller=who,
    )
    return _out(view)


@router.get("", response_model=list[AgentOut])
def list_agents(request: Request, _: Caller = Depends(require(Role.VIEWER))) -> list[AgentOut]:
    return [_out(v) for v in _agents(request).list()]


@router.get("/{name}", response_model=AgentOut)
def get_agent(name: str, request: Request, _: Caller = Depends(require(Role.VIEWER))) -> AgentOut:
    return _out(_agents(request).get(name))
