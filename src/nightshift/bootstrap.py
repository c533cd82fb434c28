"""Composition root: settings in, concrete adapters wired together out.

The only place that chooses implementations; everything else receives them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from nightshift.runtime.dispatcher import Dispatcher, DispatchPolicy
from nightshift.runtime.event_bus import EventBus
from nightshift.runtime.executors.local import LocalExecutor
from nightshift.runtime.executors.protocol import Executor, ExitHandler, UnitLimits, WorkerExit
from nightshift.runtime.reconciler import Reconciler
from nightshift.services.agents import AgentService
from nightshift.services.investigations import AdmissionPolicy, InvestigationService
from nightshift.services.ports import ScenarioBrief
from nightshift.services.principals import PrincipalService
from nightshift.settings import Settings
from nightshift.store import migrate
from nightshift.store.database import Database


class _FanOut:
    """Notifies several listeners of investigation changes."""

    def __init__(self, *targets: EventBus | Dispatcher) -> None:
        self._targets = targets

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
    started: bool = field(default=False)

    def close(self) -> None:
        self.executor.shutdown()
        self.db.dispose()


class ShippedScenarios:
    """The simulated incident world's scenarios, as the submission path sees them."""

    def describe(self, name: str) -> ScenarioBrief | None:
        from nightshift.scenarios import ScenarioError, load_scenario

        try:
            sc = load_scenario(name)
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


def local_executor(settings: Settings, on_exit: ExitHandler) -> Executor:
    return LocalExecutor(settings.logs_dir, on_exit)


def build_container(
    settings: Settings,
    *,
    apply_migrations: bool = True,
    executor_factory: ExecutorFactory = local_executor,
) -> Container:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
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

    def on_exit(exit_: WorkerExit) -> None:
        reconciler_ref[0].worker_exited(exit_)

    executor = executor_factory(settings, on_exit)
    fan_out = _FanOut(bus)
    investigations = InvestigationService(db, admission, fan_out, scenarios=ShippedScenarios())
    dispatcher = Dispatcher(
        db,
        investigations,
        executor,
        DispatchPolicy(
            max_running=settings.max_running,
            max_running_per_agent=settings.max_running_per_agent,
            limits=limits,
            api_url=settings.public_url,
            interval_seconds=settings.dispatch_interval_seconds,
        ),
    )
    fan_out._targets = (bus, dispatcher)
    investigations.add_termination_listener(dispatcher)
    reconciler = Reconciler(db, investigations, executor)
    reconciler_ref.append(reconciler)
    return Container(
        settings=settings,
        db=db,
        bus=bus,
        principals=PrincipalService(db),
        agents=AgentService(db),
        investigations=investigations,
        executor=executor,
        dispatcher=dispatcher,
        reconciler=reconciler,
    )
