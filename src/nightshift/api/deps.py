"""What routes depend on, declared once: one ``Annotated`` alias per service.

A route names the services it uses as typed parameters (``svc: ProposalsDep``)
and FastAPI hands them over from the composition root the app was built with;
no route reaches into ``app.state`` itself. Each provider is a plain function
of the request, so the web console can call the same ones outside a route.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

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


ContainerDep = Annotated[Container, Depends(container)]
AgentsDep = Annotated[AgentService, Depends(agents)]
AlertIntakeDep = Annotated[AlertIntakeService, Depends(alert_intake)]
AlertReadsDep = Annotated[AlertReads, Depends(alert_reads)]
AlertRoutesDep = Annotated[AlertRouteService, Depends(alert_routes)]
ApprovalsDep = Annotated[ApprovalService, Depends(approvals)]
AuditDep = Annotated[AuditService, Depends(audit)]
ChangesDep = Annotated[ChangeService, Depends(changes)]
ConsoleSessionsDep = Annotated[ConsoleSessionService, Depends(console_sessions)]
CredentialsDep = Annotated[CredentialService, Depends(credentials)]
DelegationDep = Annotated[DelegationService, Depends(delegation)]
EscalationsDep = Annotated[EscalationService, Depends(escalations)]
ExecutionDep = Annotated[ExecutionService, Depends(execution)]
InvestigationsDep = Annotated[InvestigationService, Depends(investigations)]
KillSwitchDep = Annotated[KillSwitchService, Depends(kill_switch)]
PhasesDep = Annotated[PhaseService, Depends(phases)]
PrincipalsDep = Annotated[PrincipalService, Depends(principals)]
ProposalsDep = Annotated[ProposalService, Depends(proposals)]
ReviewsDep = Annotated[ReviewService, Depends(reviews)]
StewardshipDep = Annotated[StewardshipService, Depends(stewardship)]
TelemetryDep = Annotated[Telemetry, Depends(telemetry)]
VerdictsDep = Annotated[VerdictService, Depends(verdicts)]
EventStreamDep = Annotated[EventStream, Depends(event_stream)]
WorkerLogsDep = Annotated[WorkerLogs, Depends(worker_logs)]
AdmissionDep = Annotated[Admission, Depends(admission)]
SettingsDep = Annotated[Settings, Depends(settings)]
