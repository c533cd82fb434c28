"""``build_container``: every object built once, in dependency order.

The order, and why: the audit chain first (it needs only the database and its
signer), then what governs on top of it (escalations, the phase gates' evidence,
phases), then telemetry (its gate gauges read the phases), then investigations
and the runtime that runs them, then the operator workflow and alert intake,
which submit and escalate through both.
"""

from __future__ import annotations

import os
import socket
from datetime import timedelta

from nightshift.bootstrap.alerts import make_alerts
from nightshift.bootstrap.brokers import audit_signer, make_broker
from nightshift.bootstrap.container import Container
from nightshift.bootstrap.scenarios import ShippedScenarios
from nightshift.bootstrap.telemetry import make_metrics, make_telemetry
from nightshift.bootstrap.workers import EXECUTORS, ExecutorFactory, load_sources, worker_env
from nightshift.bootstrap.workflow import make_escalations, make_phases, make_workflow
from nightshift.domain.actions import load_action_catalog
from nightshift.observability.audit_anchor import AnchorSink
from nightshift.runtime.dispatcher import Dispatcher, DispatchPolicy
from nightshift.runtime.event_bus import EventBus
from nightshift.runtime.executors.protocol import UnitLimits, WorkerExit
from nightshift.runtime.reconciler import Reconciler, UnitExits
from nightshift.runtime.replicas import ReplicaWatch
from nightshift.services.agents import AgentService
from nightshift.services.audit import AuditService
from nightshift.services.console_sessions import ConsoleSessionService
from nightshift.services.control_leases import ControlLeases
from nightshift.services.credentials import CredentialService, DbLeaseRecorder
from nightshift.services.decision_audit import DecisionAuditor
from nightshift.services.delegation import DelegationService
from nightshift.services.dispatch_queue import DispatchQueue
from nightshift.services.evidence import EvidenceService
from nightshift.services.gate_view import GateView
from nightshift.services.gateway_holds import GatewayHolds
from nightshift.services.interrupted import InterruptedExecutions
from nightshift.services.investigations import AdmissionPolicy, InvestigationService
from nightshift.services.kill_switch import KillSwitchService
from nightshift.services.ports import EventNotifier
from nightshift.services.principals import PrincipalService
from nightshift.services.replica_units import ReplicaUnits
from nightshift.services.stewardship import StewardshipService
from nightshift.settings import Settings
from nightshift.store import migrate
from nightshift.store.database import Database
from nightshift.store.private_files import private_dir
from nightshift.store.wakeups import PgWakeups


class _FanOut:
    """Notifies several listeners of investigation changes. The investigation
    service publishes through it and the PostgreSQL wake-ups, one of its
    listeners, wake the dispatcher that needs that service: so they are added
    once built, before anything publishes."""

    def __init__(self, *targets: EventNotifier) -> None:
        self._targets: list[EventNotifier] = list(targets)

    def add(self, target: EventNotifier) -> None:
        self._targets.append(target)

    def publish(self, investigation_id: str) -> None:
        for target in self._targets:
            target.publish(investigation_id)


def replica_id(settings: Settings) -> str:
    """This replica's name: the setting, else hostname-pid (unique while it lives)."""
    return settings.replica_id or f"{socket.gethostname()}-{os.getpid()}"[:128]


def build_container(
    settings: Settings,
    *,
    apply_migrations: bool = True,
    executor_factory: ExecutorFactory | None = None,
) -> Container:
    private_dir(settings.data_dir)  # the database, logs and secrets are the control plane's alone
    db = Database(settings.database_url)
    if apply_migrations:
        migrate.upgrade(db.engine)
    bus = EventBus()
    sources = load_sources(settings)
    catalog = load_action_catalog()
    leases = ControlLeases(db, replica_id(settings), settings.lease_seconds)

    # The audit chain, and the governance recorded in it.
    metrics = make_metrics(settings)
    anchor_failures = metrics.audit_anchor_failures
    audit = AuditService(
        db,
        AnchorSink(settings.audit_anchor_path, audit_signer(settings)),
        on_anchor_failure=lambda reason: anchor_failures.labels(reason).inc(),
    )
    escalations = make_escalations(settings, db, audit)
    evidence = EvidenceService(db)
    phases = make_phases(settings, db, audit, catalog, evidence, escalations)
    gates = GateView(db, phases, settings.gate_metrics_refresh_seconds)
    telemetry = make_telemetry(settings, db, metrics, gates)

    # Investigations and the runtime that runs them.
    limits = {
        tier: UnitLimits(lim.memory_mb, lim.cpu_seconds, lim.deadline_seconds)
        for tier, lim in settings.tier_limits.items()
    }
    admission = AdmissionPolicy(
        queue_capacity=settings.queue_capacity,
        retry_after_seconds=settings.retry_after_seconds,
        deadline_seconds={t: lim.deadline_seconds for t, lim in limits.items()},
    )
    fan_out = _FanOut(bus)
    scenarios = ShippedScenarios()
    investigations = InvestigationService(
        db, admission, fan_out, scenarios=scenarios, sources=sources
    )
    exits = UnitExits(investigations, leases.replica)

    def on_exit(exit_: WorkerExit) -> None:
        exits.worker_exited(exit_)
        telemetry.worker_exited(exit_.investigation_id, exit_.resources)

    executor = (executor_factory or EXECUTORS[settings.executor])(settings, on_exit)
    recorder = DbLeaseRecorder(db, settings.secrets_backend)
    credentials = CredentialService(db, make_broker(settings, recorder), settings.secrets_backend)
    dispatch_queue = DispatchQueue(
        db, investigations, claim_guard=leases.beat_in, prepare_launch=telemetry.prepare_launch
    )
    replica_units = ReplicaUnits(db, investigations, leases)
    dispatcher = Dispatcher(
        dispatch_queue,
        investigations,
        executor,
        DispatchPolicy(
            max_running=settings.max_running,
            max_running_per_agent=settings.max_running_per_agent,
            limits=limits,
            api_url=settings.public_url,
            interval_seconds=settings.dispatch_interval_seconds,
            replica=leases.replica,
            worker_env=worker_env(settings, sources),
        ),
        credentials,
    )
    investigations.add_queue_listener(dispatcher)
    wakeups = None
    if db.engine.dialect.name == "postgresql":

        def woken(inv_id: str) -> None:
            if inv_id:
                bus.publish(inv_id)
            dispatcher.wake()

        wakeups = PgWakeups(settings.database_url, leases.replica, woken)
        fan_out.add(wakeups)
    investigations.add_termination_listener(dispatcher)
    investigations.add_termination_listener(credentials)
    kill_switch = KillSwitchService(db, audit, investigations)
    investigations.add_admission_check(kill_switch.refusal)
    investigations.add_event_observer(DecisionAuditor(audit))

    # The operator workflow and alert intake, on top of both.
    workflow = make_workflow(settings, db, audit, catalog, sources, escalations, kill_switch)
    investigations.add_termination_listener(escalations)
    investigations.add_termination_listener(workflow.reviews)
    reconciler = Reconciler(
        replica_units,
        investigations,
        executor,
        credentials,
        exits=exits,
        executions=InterruptedExecutions(workflow.execution),
    )
    alerts = make_alerts(settings, db, investigations, escalations, kill_switch.refusal)
    investigations.add_event_observer(telemetry.observe)
    investigations.add_termination_listener(telemetry)
    if apply_migrations:
        telemetry.prime()  # count phase changes and approval decisions from now on
    return Container(
        settings=settings,
        db=db,
        bus=bus,
        principals=PrincipalService(db),
        agents=AgentService(db, audit, catalog),
        investigations=investigations,
        executor=executor,
        dispatcher=dispatcher,
        reconciler=reconciler,
        credentials=credentials,
        audit=audit,
        stewardship=StewardshipService(db, audit, investigations, catalog),
        phases=phases,
        kill_switch=kill_switch,
        delegation=DelegationService(db, investigations, audit, kill_switch),
        catalog=catalog,
        sources=sources,
        proposals=workflow.proposals,
        approvals=workflow.approvals,
        execution=workflow.execution,
        escalations=escalations,
        gateway_holds=GatewayHolds(db, audit, escalations),
        verdicts=workflow.verdicts,
        reviews=workflow.reviews,
        evidence=evidence,
        telemetry=telemetry,
        alerts=alerts.intake,
        alert_routes=alerts.routes,
        alert_reads=alerts.reads,
        console_sessions=ConsoleSessionService(
            db, timedelta(minutes=settings.console_session_minutes)
        ),
        leases=leases,
        replicas=ReplicaWatch(replica_units, investigations, executor),
        wakeups=wakeups,
        scenarios=scenarios,
    )
