"""Composition root: settings in, concrete adapters wired together out.

The only place that chooses implementations; everything else receives them.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from nightshift.domain.actions import ActionCatalog, load_action_catalog
from nightshift.observability.audit_anchor import AnchorKey, AnchorSigner, AnchorSink
from nightshift.runtime.dispatcher import Dispatcher, DispatchPolicy
from nightshift.runtime.event_bus import EventBus
from nightshift.runtime.executors.local import LocalExecutor
from nightshift.runtime.executors.local_sandbox import detect as detect_sandbox
from nightshift.runtime.executors.local_sandbox import hidden_paths
from nightshift.runtime.executors.protocol import (
    Executor,
    ExitHandler,
    QueuedUnit,
    UnitLimits,
    WorkerExit,
    reported_admission,
)
from nightshift.runtime.reconciler import Reconciler
from nightshift.runtime.replicas import ReplicaWatch
from nightshift.secrets.leases import RetryPolicy
from nightshift.secrets.protocol import LeaseRecorder, SecretBroker
from nightshift.services.agents import AgentService
from nightshift.services.alert_routes import AlertRouteService
from nightshift.services.alert_store import AlertReads
from nightshift.services.alerts import AlertIntakeService, IntakePolicy
from nightshift.services.approvals import ApprovalService
from nightshift.services.audit import AuditService
from nightshift.services.changes import ChangeService
from nightshift.services.console_sessions import ConsoleSessionService
from nightshift.services.control_leases import ControlLeases
from nightshift.services.credentials import CredentialService, DbLeaseRecorder
from nightshift.services.decision_audit import DecisionAuditor
from nightshift.services.delegation import DelegationService
from nightshift.services.dispatch_queue import DispatchQueue
from nightshift.services.escalations import EscalationService
from nightshift.services.evidence import EvidenceService
from nightshift.services.execution import ExecutionService
from nightshift.services.gate_view import GateView
from nightshift.services.gateway_holds import GatewayHolds
from nightshift.services.interrupted import InterruptedExecutions
from nightshift.services.investigations import AdmissionPolicy, InvestigationService
from nightshift.services.kill_switch import KillSwitchService
from nightshift.services.phases import PhaseService
from nightshift.services.ports import EventNotifier, ScenarioBrief
from nightshift.services.principals import PrincipalService
from nightshift.services.proposals import ProposalService, WorkflowPolicy
from nightshift.services.remediation_port import ChangeHistory, RemediationJob, Remediator
from nightshift.services.replica_units import ReplicaUnits
from nightshift.services.reviews import ReviewService
from nightshift.services.stewardship import StewardshipService
from nightshift.services.telemetry import Telemetry
from nightshift.services.verdicts import VerdictService
from nightshift.settings import Settings
from nightshift.sources.config import SourceKind, SourcesFile, load_sources_file
from nightshift.sources.files import named_files
from nightshift.store import migrate
from nightshift.store.database import Database
from nightshift.store.private_files import private_dir
from nightshift.store.wakeups import PgWakeups

if TYPE_CHECKING:
    from nightshift.k8s.client import KubeApi
    from nightshift.secrets.policies import VaultLayout
    from nightshift.secrets.vault_client import VaultAuth, VaultEndpoint


log = logging.getLogger(__name__)


class _FanOut:
    """Notifies several listeners of investigation changes. Listeners are
    added after construction because the dispatcher itself needs the service
    that publishes through this fan-out."""

    def __init__(self, *targets: EventNotifier) -> None:
        self._targets: list[EventNotifier] = list(targets)

    def add(self, target: EventNotifier) -> None:
        self._targets.append(target)

    def publish(self, investigation_id: str) -> None:
        for target in self._targets:
            target.publish(investigation_id)


@dataclass
class Container:
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
    sources: SourcesFile = field(default_factory=SourcesFile)
    started: bool = field(default=False)
    # The operator workflow (issue 5), wired by _wire_workflow after construction.
    proposals: ProposalService = field(init=False)
    approvals: ApprovalService = field(init=False)
    execution: ExecutionService = field(init=False)
    escalations: EscalationService = field(init=False)
    # Third-party agents' held gateway calls: the leader ends abandoned ones (issue 22).
    gateway_holds: GatewayHolds = field(init=False)
    verdicts: VerdictService = field(init=False)
    reviews: ReviewService = field(init=False)
    evidence: EvidenceService = field(init=False)
    # Metrics, traces, cost attribution, adaptive depth (issue 9; docs/observability.md).
    telemetry: Telemetry = field(init=False)
    # Alert intake, routing rules and alert reads (issue 13; docs/alerts.md).
    alerts: AlertIntakeService = field(init=False)
    alert_routes: AlertRouteService = field(init=False)
    alert_reads: AlertReads = field(init=False)
    # Web-console sessions and one-time sign-in links (issue 17; docs/console.md).
    console_sessions: ConsoleSessionService = field(init=False)
    # Several replicas on one database: leases, heartbeats, orphan recovery and
    # remote stops (issue 21; docs/control-plane.md, "Several replicas").
    leases: ControlLeases = field(init=False)
    replicas: ReplicaWatch = field(init=False)
    # PostgreSQL only: LISTEN/NOTIFY carries wake-ups between replicas.
    wakeups: PgWakeups | None = None

    def admission(self, investigation_id: str) -> QueuedUnit | None:
        """Where a dispatched unit waits in the cluster's queue (Kueue), if the
        executor has one; the API shows it on the investigation (issue 21)."""
        return reported_admission(self.executor, investigation_id)

    def close(self) -> None:
        self.executor.shutdown()
        if hasattr(self, "telemetry"):
            self.telemetry.tracing.shutdown()
        self.db.dispose()


class ShippedScenarios:
    """The simulated incident world's scenarios, as the submission path sees them.

    Parsing a large scenario costs tens of milliseconds, so briefs are cached
    for the life of the process (a changed scenario file is seen after a restart).
    """

    def __init__(self) -> None:
        self._cache: dict[str, ScenarioBrief | None] = {}

    def describe(self, name: str) -> ScenarioBrief | None:
        if name not in self._cache:
            self._cache[name] = self._load(name)
        return self._cache[name]

    @staticmethod
    def _load(name: str) -> ScenarioBrief | None:
        from nightshift.scenarios import ScenarioError, load_installed

        try:
            sc = load_installed(name)  # a name from a request: never a path
        except ScenarioError:
            return None
        trigger = sc.trigger
        question = trigger.question or (
            f"{trigger.alert}: {trigger.summary}" if trigger.alert else trigger.summary
        )
        return ScenarioBrief(
            name=sc.metadata.name,
            question=" ".join(question.split()),
            tier=sc.metadata.tier,
            domains=tuple(sc.metadata.domains),
            alert={"alertname": trigger.alert} if trigger.alert else {},
        )


ExecutorFactory = Callable[[Settings, ExitHandler], Executor]


def load_sources(settings: Settings) -> SourcesFile:
    """The declared evidence sources; none without a sources file (simulated only).
    A broken file stops the start with its message: better than investigations that
    silently read nothing."""
    if settings.sources_file is None:
        return SourcesFile()
    return load_sources_file(settings.sources_file)


def make_broker(settings: Settings, recorder: LeaseRecorder) -> SecretBroker:
    """The configured secret broker; Vault's client is imported only when chosen."""
    retry = RetryPolicy(
        attempts=settings.secrets_revoke_attempts, first_delay=settings.secrets_revoke_backoff
    )
    if settings.secrets_backend == "vault":
        from nightshift.secrets.policies import parse_sources
        from nightshift.secrets.vault import VaultBroker

        return VaultBroker(
            vault_endpoint(settings),
            vault_auth(settings),
            layout=vault_layout(settings),
            recorder=recorder,
            dynamic_sources=parse_sources(settings.vault_dynamic_sources),
            handoff_wrap_ttl=settings.secrets_handoff_ttl,
            revoke_retry=retry,
        )
    from nightshift.secrets.local import LocalBroker

    return LocalBroker(
        settings.secrets_path,
        recorder=recorder,
        handoff_ttl=settings.secrets_handoff_ttl,
        revoke_retry=retry,
    )


def vault_auth(settings: Settings) -> VaultAuth:
    from nightshift.secrets.vault_client import VaultAuth

    return VaultAuth(
        method=settings.vault_auth_method,
        token=settings.vault_token.get_secret_value(),
        role=settings.vault_auth_role,
        jwt_path=Path(settings.vault_jwt_path),
        mount=settings.vault_auth_mount or None,
    )


def vault_layout(settings: Settings) -> VaultLayout:
    """Where Nightshift's paths live on the server (also what `vault policies` prints)."""
    from nightshift.secrets.policies import VaultLayout

    return VaultLayout(
        kv_mount=settings.vault_kv_mount,
        prefix=settings.vault_prefix,
        database_mount=settings.vault_database_mount,
        token_role=settings.vault_token_role,
        transit_mount=settings.vault_transit_mount,
        audit_transit_key=settings.audit_transit_key,
    )


def audit_signer(settings: Settings) -> AnchorSigner:
    """The key the audit head is signed with, never one the database holds: the
    transit key when the broker is Vault (the same login as the broker's), else
    the key file beside the data directory."""
    if settings.secrets_backend == "vault":
        from nightshift.secrets.vault_transit import TransitSigner

        layout = vault_layout(settings)
        return TransitSigner(
            vault_endpoint(settings),
            vault_auth(settings),
            key=layout.audit_transit_key,
            mount=layout.transit_mount,
        )
    return AnchorKey(settings.audit_anchor_key_path)


def vault_endpoint(settings: Settings) -> VaultEndpoint:
    from nightshift.secrets.vault_client import VaultEndpoint

    verify: bool | str = settings.vault_cacert or settings.vault_tls_verify
    return VaultEndpoint(
        addr=settings.vault_addr,
        verify=verify,
        namespace=settings.vault_namespace or None,
        timeout=settings.vault_timeout,
    )


def worker_env(settings: Settings, sources: SourcesFile) -> dict[str, str]:
    """Non-secret settings a worker needs: its secret backend, and whether it reads the
    cluster as its pod's own ServiceAccount (a kubernetes source with no address)."""
    env = settings.worker_settings().env()
    in_cluster = any(
        s.kind is SourceKind.KUBERNETES and not s.url and not s.setting("kubeconfig")
        for s in sources.sources
    )
    if in_cluster:
        env["NIGHTSHIFT_WORKER_CLUSTER_IDENTITY"] = "serviceaccount"
    return env


def worker_files(settings: Settings, sources: SourcesFile) -> tuple[Path, ...]:
    """The local files a worker reads: its sources' and its settings' (the sandbox
    shows it these, read-only, and no others of the host's)."""
    named = list(named_files(sources))
    if settings.secrets_backend == "vault" and settings.vault_cacert:
        named.append(Path(settings.vault_cacert))
    return tuple(named)


def local_executor(settings: Settings, on_exit: ExitHandler) -> Executor:
    hidden = hidden_paths(
        settings.data_dir,
        settings.database_url,
        (settings.secrets_path, settings.audit_anchor_key_path),
    )
    return LocalExecutor(
        settings.logs_dir,
        on_exit,
        template=settings.worker_template,
        sandbox=detect_sandbox(
            settings.worker_sandbox, hidden, worker_files(settings, load_sources(settings))
        ),
    )


def kubernetes_executor(settings: Settings, on_exit: ExitHandler) -> Executor:
    """One Job per investigation; the python client is imported only when chosen."""
    from nightshift.k8s.client import KubeApi, load_access
    from nightshift.k8s.jobs import JobTemplate
    from nightshift.runtime.executors.kubernetes import KubernetesExecutor

    access = load_access(settings.k8s_kubeconfig or None, settings.k8s_context or None)
    template = JobTemplate(
        namespace=settings.k8s_namespace,
        image=settings.k8s_worker_image,
        ttl_seconds_after_finished=settings.k8s_job_ttl_seconds,
        kueue_queue=settings.k8s_kueue_queue or None,
        kueue_priority_class=settings.k8s_kueue_priority,
    )
    return KubernetesExecutor(KubeApi(access), template, on_exit)


EXECUTORS: dict[str, Callable[[Settings, ExitHandler], Executor]] = {
    "local": local_executor,
    "kubernetes": kubernetes_executor,
}


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
    limits = {
        tier: UnitLimits(lim.memory_mb, lim.cpu_seconds, lim.deadline_seconds)
        for tier, lim in settings.tier_limits.items()
    }
    admission = AdmissionPolicy(
        queue_capacity=settings.queue_capacity,
        retry_after_seconds=settings.retry_after_seconds,
        deadline_seconds={t: lim.deadline_seconds for t, lim in limits.items()},
    )
    reconciler_ref: list[Reconciler] = []
    leases = ControlLeases(db, replica_id(settings), settings.lease_seconds)
    telemetry = make_telemetry(settings, db)

    def on_exit(exit_: WorkerExit) -> None:
        reconciler_ref[0].worker_exited(exit_)
        telemetry.worker_exited(exit_.investigation_id, exit_.resources)

    executor = (executor_factory or EXECUTORS[settings.executor])(settings, on_exit)
    recorder = DbLeaseRecorder(db, settings.secrets_backend)
    credentials = CredentialService(db, make_broker(settings, recorder), settings.secrets_backend)
    fan_out = _FanOut(bus)
    sources = load_sources(settings)
    investigations = InvestigationService(
        db, admission, fan_out, scenarios=ShippedScenarios(), sources=sources
    )
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
    fan_out.add(dispatcher)
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
    reconciler = Reconciler(replica_units, investigations, executor, credentials)
    reconciler_ref.append(reconciler)
    catalog = load_action_catalog()
    audit = AuditService(
        db,
        AnchorSink(settings.audit_anchor_path, audit_signer(settings)),
    )
    anchor_failures = telemetry.metrics.audit_anchor_failures
    audit.on_anchor_failure = lambda reason: anchor_failures.labels(reason).inc()
    kill_switch = KillSwitchService(db, audit, investigations)
    investigations.add_admission_check(kill_switch.refusal)
    investigations.add_event_observer(DecisionAuditor(audit))
    container = Container(
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
        phases=PhaseService(db, audit),
        kill_switch=kill_switch,
        delegation=DelegationService(db, investigations, audit, kill_switch),
        catalog=catalog,
        sources=sources,
    )
    _wire_workflow(container)
    container.gateway_holds = GatewayHolds(db, audit, container.escalations)
    _wire_alerts(container)
    container.console_sessions = ConsoleSessionService(
        db, timedelta(minutes=settings.console_session_minutes)
    )
    container.telemetry = telemetry
    container.leases = leases
    container.replicas = ReplicaWatch(replica_units, investigations, executor)
    container.wakeups = wakeups
    telemetry.gates = GateView(db, container.phases, settings.gate_metrics_refresh_seconds)
    investigations.add_event_observer(telemetry.observe)
    investigations.add_termination_listener(telemetry)
    if apply_migrations:
        telemetry.prime()  # count phase changes and approval decisions from now on
    return container


def replica_id(settings: Settings) -> str:
    """This replica's name: the setting, else hostname-pid (unique while it lives)."""
    return settings.replica_id or f"{socket.gethostname()}-{os.getpid()}"[:128]


def make_telemetry(settings: Settings, db: Database) -> Telemetry:
    """Metrics on a registry of this container's own, tracing (off without an
    OTLP endpoint), cost prices and the adaptive reasoning-depth bound."""
    from nightshift.observability.costs import Prices
    from nightshift.observability.llm_calls import TokenPrice
    from nightshift.observability.metrics import Metrics
    from nightshift.observability.tracing import Tracing, otlp_provider
    from nightshift.services.costs import CostService
    from nightshift.services.depth import DepthService

    llm = {m: TokenPrice(p.input, p.output, p.cached) for m, p in settings.cost_llm_prices.items()}
    prices = Prices(
        cpu_second_usd=settings.cost_cpu_second_usd,
        gb_second_usd=settings.cost_gb_second_usd,
        tool_call_usd=settings.cost_tool_call_usd,
        storage_gb_month_usd=settings.cost_storage_gb_month_usd,
        retention_days=settings.log_retention_days,
        llm=llm,
    )
    provider = otlp_provider(
        settings.otlp_endpoint, settings.trace_service_name, settings.otlp_headers
    )
    return Telemetry(
        db,
        metrics=Metrics(llm_prices=llm),
        tracing=Tracing(provider, settings.otlp_endpoint),
        depth=DepthService(
            db,
            window=timedelta(days=settings.depth_window_days),
            ceilings=settings.depth_ceilings,
            min_samples=settings.depth_min_samples,
        ),
        costs=CostService(db, prices),
        adaptive_depth=settings.depth_adaptive,
    )


def make_remediator(
    settings: Settings,
    sources: SourcesFile,
    escalations: EscalationService | None = None,
    history: ChangeHistory | None = None,
) -> Remediator:
    """Approved actions run on the world the evidence came from: the simulated world
    for scenarios; the cluster, as the agent's phase ServiceAccount, when one is
    configured (``NIGHTSHIFT_REMEDIATOR``, or ``auto`` with a declared kubernetes source)."""
    from nightshift.runtime.remediation.routed import RoutedRemediator
    from nightshift.runtime.remediation.simulated import SimulatedRemediator

    by_kind: dict[SourceKind, Remediator] = {SourceKind.SIMULATED: SimulatedRemediator()}
    declared = any(src.kind is SourceKind.KUBERNETES for src in sources.sources)
    wanted = settings.remediator
    if wanted == "kubernetes" or (wanted == "auto" and declared):
        from nightshift.k8s.client import KubeApi, load_access
        from nightshift.runtime.remediation.kubernetes import KubernetesRemediator

        try:
            access = load_access(settings.k8s_kubeconfig or None, settings.k8s_context or None)
        except Exception as exc:
            why = (
                f"the control plane has no cluster access for remediation ({exc}); set "
                "NIGHTSHIFT_K8S_KUBECONFIG or run it in the cluster"
            )
            if wanted == "kubernetes":
                raise RuntimeError(why) from exc
            # auto: investigations still read the cluster; approved actions are refused
            # with a reason until the control plane can act there.
            log.warning("%s; cluster remediation is off", why)
            return RoutedRemediator(by_kind)
        admin = KubeApi(access)
        cluster: Remediator = KubernetesRemediator(
            admin, settings.k8s_namespace, lambda job: (job.agent, job.trust_phase), history
        )
        if settings.gitops_repo is not None:
            cluster = _gitops(settings, settings.gitops_repo, cluster, admin, escalations, history)
        by_kind[SourceKind.KUBERNETES] = cluster
    return RoutedRemediator(by_kind)


def _gitops(
    settings: Settings,
    repo: Path,
    cluster: Remediator,
    admin: KubeApi,
    escalations: EscalationService | None,
    history: ChangeHistory | None,
) -> Remediator:
    """Agents' changes to objects Git declares are committed too (docs/gitops.md); a
    live change Git could not record escalates: Git no longer describes production."""
    from nightshift.gitops.controllers import synced_paths
    from nightshift.gitops.modes import Mode, ModeTable
    from nightshift.gitops.record import GitRecorder
    from nightshift.gitops.working_copy import WorkingCopy
    from nightshift.runtime.remediation.gitops import GitOpsRemediator
    from nightshift.runtime.remediation.live_read import cluster_lister, live_reader

    modes = ModeTable(settings.environment, {k: Mode(v) for k, v in settings.gitops_modes.items()})

    def diverged(job: RemediationJob, why: str) -> None:
        if escalations is not None:
            escalations.open_for(
                job.investigation_id, kind="gitops_divergence", summary=why,
                proposal_id=job.proposal_id or None,
            )  # fmt: skip

    lister = cluster_lister(admin)
    recorder = GitRecorder(WorkingCopy(repo), lambda: synced_paths(lister))
    return GitOpsRemediator(cluster, recorder, modes, live_reader(admin), diverged, history)


def _wire_alerts(c: Container) -> None:
    """Alert intake: routing rules, grouping, storm limits (docs/alerts.md)."""
    c.alert_routes = AlertRouteService(c.db)
    c.alert_reads = AlertReads(c.db)
    c.alerts = AlertIntakeService(
        c.db,
        c.alert_routes,
        c.investigations,
        c.escalations,
        IntakePolicy(
            max_investigations_per_minute=c.settings.alerts_max_investigations_per_minute,
            cancel_on_resolve=c.settings.alerts_cancel_on_resolve,
        ),
        refusal=c.kill_switch.refusal,
    )


def _wire_workflow(c: Container) -> None:
    """Proposals, approvals, execution (simulated world), escalations, verdicts,
    shadow reviews and the evidence the phase gates read (docs/workflow.md)."""
    from nightshift.notifications.protocol import Notifier
    from nightshift.notifications.webhook import WebhookNotifier

    s = c.settings
    notifiers: list[Notifier] = []
    if s.notify_webhook_url:
        notifiers.append(
            WebhookNotifier(
                s.notify_webhook_url, timeout=s.notify_timeout_seconds, retries=s.notify_retries
            )
        )
    c.escalations = EscalationService(
        c.db, c.audit, notifiers, oncall=s.oncall_contact, background=s.notify_async
    )
    c.proposals = ProposalService(
        c.db,
        c.audit,
        c.escalations,
        c.catalog,
        WorkflowPolicy(timedelta(seconds=s.approval_ttl_seconds), s.approval_rate_per_hour),
        kill_switch=c.kill_switch.kill_switch,
    )
    c.approvals = ApprovalService(c.proposals)
    # revert-change reads what a change replaced from the change feed.
    remediator = make_remediator(c.settings, c.sources, c.escalations, ChangeService(c.db))
    if c.settings.test_crash_at:
        from nightshift.runtime.remediation.crash_point import CrashingRemediator

        log.warning(
            "NIGHTSHIFT_TEST_CRASH_AT=%s: this control plane will kill itself mid-execution "
            "(fault injection for tests)",
            c.settings.test_crash_at,
        )
        remediator = CrashingRemediator(remediator, c.settings.test_crash_at)
    c.execution = ExecutionService(c.proposals, remediator)
    c.reconciler.executions = InterruptedExecutions(c.execution)
    c.proposals.on_approved = c.execution.run
    c.verdicts = VerdictService(c.db, c.audit)
    c.reviews = ReviewService(c.db, c.audit)
    c.evidence = EvidenceService(c.db)
    c.phases.evidence = c.evidence
    c.phases.escalations = c.escalations
    if s.gitops_repo is not None:
        # An automatic demotion applies live at once and is then committed to Git, so
        # the next sync does not restore the permissions it took away.
        from nightshift.gitops.vault_policy import layout_of
        from nightshift.runtime.demotion_git import GitDemotionRecorder
        from nightshift.runtime.promotion_git import GitPhaseProposals

        c.phases.git = GitDemotionRecorder(
            s.gitops_repo, s.environment, c.catalog, s.gitops_values_dir, layout_of(s)
        )
        # The console's promote button then commits on a review branch (no live change).
        c.phases.proposals_git = GitPhaseProposals(
            s.gitops_repo, s.environment, c.catalog, s.gitops_values_dir, layout_of(s)
        )
    c.investigations.add_termination_listener(c.escalations)
    c.investigations.add_termination_listener(c.reviews)
