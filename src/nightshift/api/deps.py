"""What routes depend on, declared once: one ``Annotated`` alias per service.

A route names the services it uses as typed parameters (``svc: ProposalsDep``)
and FastAPI hands them over from the composition root the app was built with;
no route reaches into ``app.state`` itself. Each provider is a plain function
of the request, so the web console can call the same ones outside a route.

Routes depend on them through :func:`provided`, an ``async`` wrapper: FastAPI
runs every plain ``def`` dependency in its threadpool, and the thread hop cost
more than the attribute read it carried (~14 % of the control plane's CPU per
investigation, with five such hops on every worker request).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request

from nightshift.bootstrap import Container
from nightshift.runtime.executors.protocol import QueuedUnit
from nightshift.services.agents import AgentService
from nightshift.services.alert_routes import AlertRouteService
from nightshift.services.alert_store import AlertReads
from nightshift.services.alerts import AlertIntakeService
from nightshift.services.approvals import ApprovalService
from nightshift.services.audit import AuditService
from nightshift.services.changes import ChangeService
from nightshift.services.console_sessions import ConsoleSessionService
from nightshift.services.credentials import CredentialService
from nightshift.services.delegation import DelegationService
from nightshift.services.escalations import EscalationService
from nightshift.services.execution import ExecutionService
from nightshift.services.investigations import InvestigationService
from nightshift.services.kill_switch import KillSwitchService
from nightshift.services.phases import PhaseService
from nightshift.services.ports import EventStream
from nightshift.services.principals import PrincipalService
from nightshift.services.proposals import ProposalService
from nightshift.services.reviews import ReviewService
from nightshift.services.stewardship import StewardshipService
from nightshift.services.telemetry import Telemetry
from nightshift.services.verdicts import VerdictService
from nightshift.settings import Settings

T = TypeVar("T")


def provided(provider: Callable[[Request], T]) -> Any:
    """``Depends(provider)`` run on the event loop: ``provider`` only reads the
    composition root, never blocks, so it needs no worker thread."""

    async def provide(request: Request) -> T:
        return provider(request)

    provide.__name__ = provider.__name__
    provide.__doc__ = provider.__doc__
    return Depends(provide)


def container(request: Request) -> Container:
    """The composition root ``create_app`` was given."""
    found: Container = request.app.state.container
    return found


def agents(request: Request) -> AgentService:
    return container(request).agents


def alert_intake(request: Request) -> AlertIntakeService:
    return container(request).alerts


def alert_reads(request: Request) -> AlertReads:
    return container(request).alert_reads


def alert_routes(request: Request) -> AlertRouteService:
    return container(request).alert_routes


def approvals(request: Request) -> ApprovalService:
    return container(request).approvals


def audit(request: Request) -> AuditService:
    return container(request).audit


def changes(request: Request) -> ChangeService:
    # Stateless over the database: one per request.
    return ChangeService(container(request).db)


def console_sessions(request: Request) -> ConsoleSessionService:
    """The web console's sign-ins (the API itself reads bearer tokens, auth.py)."""
    return container(request).console_sessions


def credentials(request: Request) -> CredentialService:
    return container(request).credentials


def delegation(request: Request) -> DelegationService:
    return container(request).delegation


def escalations(request: Request) -> EscalationService:
    return container(request).escalations


def execution(request: Request) -> ExecutionService:
    return container(request).execution


def investigations(request: Request) -> InvestigationService:
    return container(request).investigations


def kill_switch(request: Request) -> KillSwitchService:
    return container(request).kill_switch


def phases(request: Request) -> PhaseService:
    return container(request).phases


def principals(request: Request) -> PrincipalService:
    return container(request).principals


def proposals(request: Request) -> ProposalService:
    return container(request).proposals


def reviews(request: Request) -> ReviewService:
    return container(request).reviews


def stewardship(request: Request) -> StewardshipService:
    return container(request).stewardship


def telemetry(request: Request) -> Telemetry:
    return container(request).telemetry


def verdicts(request: Request) -> VerdictService:
    return container(request).verdicts


def event_stream(request: Request) -> EventStream:
    """Wake-ups for followers of an investigation's events."""
    return container(request).bus


WorkerLogs = Callable[[str, int], str | None]  # (investigation id, tail bytes) -> text


def worker_logs(request: Request) -> WorkerLogs:
    """The executor's log of an investigation's worker (None when it has none)."""
    return container(request).executor.read_log


Admission = Callable[[str], QueuedUnit | None]


def admission(request: Request) -> Admission:
    """Where a dispatched unit waits in the cluster's queue, if the executor has one."""
    return container(request).admission


def settings(request: Request) -> Settings:
    return container(request).settings


ContainerDep = Annotated[Container, provided(container)]
AgentsDep = Annotated[AgentService, provided(agents)]
AlertIntakeDep = Annotated[AlertIntakeService, provided(alert_intake)]
AlertReadsDep = Annotated[AlertReads, provided(alert_reads)]
AlertRoutesDep = Annotated[AlertRouteService, provided(alert_routes)]
ApprovalsDep = Annotated[ApprovalService, provided(approvals)]
AuditDep = Annotated[AuditService, provided(audit)]
ChangesDep = Annotated[ChangeService, provided(changes)]
ConsoleSessionsDep = Annotated[ConsoleSessionService, provided(console_sessions)]
CredentialsDep = Annotated[CredentialService, provided(credentials)]
DelegationDep = Annotated[DelegationService, provided(delegation)]
EscalationsDep = Annotated[EscalationService, provided(escalations)]
ExecutionDep = Annotated[ExecutionService, provided(execution)]
InvestigationsDep = Annotated[InvestigationService, provided(investigations)]
KillSwitchDep = Annotated[KillSwitchService, provided(kill_switch)]
PhasesDep = Annotated[PhaseService, provided(phases)]
PrincipalsDep = Annotated[PrincipalService, provided(principals)]
ProposalsDep = Annotated[ProposalService, provided(proposals)]
ReviewsDep = Annotated[ReviewService, provided(reviews)]
StewardshipDep = Annotated[StewardshipService, provided(stewardship)]
TelemetryDep = Annotated[Telemetry, provided(telemetry)]
VerdictsDep = Annotated[VerdictService, provided(verdicts)]
EventStreamDep = Annotated[EventStream, provided(event_stream)]
WorkerLogsDep = Annotated[WorkerLogs, provided(worker_logs)]
AdmissionDep = Annotated[Admission, provided(admission)]
SettingsDep = Annotated[Settings, provided(settings)]
