"""What the composition root hands out: every service and adapter, built once."""

from __future__ import annotations

from dataclasses import dataclass

from nightshift.domain.actions import ActionCatalog
from nightshift.runtime.dispatcher import Dispatcher
from nightshift.runtime.event_bus import EventBus
from nightshift.runtime.executors.protocol import (
    Executor,
    QueuedUnit,
    WarmsUp,
    reported_admission,
)
from nightshift.runtime.reconciler import Reconciler
from nightshift.runtime.replicas import ReplicaWatch
from nightshift.services.agents import AgentService
from nightshift.services.alert_routes import AlertRouteService
from nightshift.services.alert_store import AlertReads
from nightshift.services.alerts import AlertIntakeService
from nightshift.services.approvals import ApprovalService
from nightshift.services.audit import AuditService
from nightshift.services.console_sessions import ConsoleSessionService
from nightshift.services.control_leases import ControlLeases
from nightshift.services.credentials import CredentialService
from nightshift.services.delegation import DelegationService
from nightshift.services.escalations import EscalationService
from nightshift.services.evidence import EvidenceService
from nightshift.services.execution import ExecutionService
from nightshift.services.gateway_holds import GatewayHolds
from nightshift.services.investigations import InvestigationService
from nightshift.services.kill_switch import KillSwitchService
from nightshift.services.phases import PhaseService
from nightshift.services.ports import ScenarioCatalog
from nightshift.services.principals import PrincipalService
from nightshift.services.proposals import ProposalService
from nightshift.services.reviews import ReviewService
from nightshift.services.stewardship import StewardshipService
from nightshift.services.telemetry import Telemetry
from nightshift.services.verdicts import VerdictService
from nightshift.settings import Settings
from nightshift.sources.config import SourcesFile
from nightshift.store.database import Database
from nightshift.store.wakeups import PgWakeups


@dataclass
class Container:
    """Built whole by ``build_container``, in dependency order: every field is given
    at construction. Only ``started`` changes afterwards (the API's lifespan)."""

    settings: Settings
    db: Database
    bus: EventBus
    principals: PrincipalService
    agents: AgentService
    investigations: InvestigationService
    executor: Executor
    dispatcher: Dispatcher
    reconciler: Reconciler
    credentials: CredentialService
    audit: AuditService
    stewardship: StewardshipService
    phases: PhaseService
    kill_switch: KillSwitchService
    delegation: DelegationService
    catalog: ActionCatalog
    sources: SourcesFile
    # The operator workflow (issue 5; docs/workflow.md).
    proposals: ProposalService
    approvals: ApprovalService
    execution: ExecutionService
    escalations: EscalationService
    # Third-party agents' held gateway calls: the leader ends abandoned ones (issue 22).
    gateway_holds: GatewayHolds
    verdicts: VerdictService
    reviews: ReviewService
    evidence: EvidenceService
    # Metrics, traces, cost attribution, adaptive depth (issue 9; docs/observability.md).
    telemetry: Telemetry
    # Alert intake, routing rules and alert reads (issue 13; docs/alerts.md).
    alerts: AlertIntakeService
    alert_routes: AlertRouteService
    alert_reads: AlertReads
    # Web-console sessions and one-time sign-in links (issue 17; docs/console.md).
    console_sessions: ConsoleSessionService
    # Several replicas on one database: leases, heartbeats, orphan recovery and
    # remote stops (issue 21; docs/control-plane.md, "Several replicas").
    leases: ControlLeases
    replicas: ReplicaWatch
    # PostgreSQL only: LISTEN/NOTIFY carries wake-ups between replicas.
    wakeups: PgWakeups | None
    # The shipped scenarios' briefs for submissions (`nightshift up` warms them).
    scenarios: ScenarioCatalog
    started: bool = False

    def warming_up(self) -> bool:
        """The executor still prepares its start path (readiness waits for it)."""
        return isinstance(self.executor, WarmsUp) and self.executor.warming

    def admission(self, investigation_id: str) -> QueuedUnit | None:
        """Where a dispatched unit waits in the cluster's queue (Kueue), if the
        executor has one; the API shows it on the investigation (issue 21)."""
        return reported_admission(self.executor, investigation_id)

    def close(self) -> None:
        self.executor.shutdown()
        self.telemetry.tracing.shutdown()
        self.db.dispose()
