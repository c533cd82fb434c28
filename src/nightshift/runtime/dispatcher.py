"""Admission to execution: picks queued investigations in priority then FIFO
order, within the global and per-agent concurrency caps, and starts a unit.

The queue itself is the investigations table (status ``queued``), so it is
durable: a restart loses nothing. The dispatcher wakes on submissions and
terminations, with a slow timer as a safety net.

Every replica of the control plane dispatches. On PostgreSQL a claim takes a
transaction-scoped advisory lock, so the caps (counted over the whole table)
hold across replicas, and locks the rows it takes with ``FOR UPDATE SKIP
LOCKED``, so a row another transaction holds (a cancel, another claim) is passed
over instead of waited for and no investigation is ever started twice. The
claiming replica's id goes on the row: it watches that unit.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nightshift.domain.investigations import ACTIVE_STATUSES
from nightshift.domain.vocabulary import InvestigationStatus, Tier
from nightshift.runtime.executors.protocol import Executor, UnitLimits, WorkerLaunch
from nightshift.services.credentials import CredentialService
from nightshift.services.investigations import InvestigationService
from nightshift.services.principals import issue_worker_token
from nightshift.store.database import Database
from nightshift.store.tables import AgentRow, InvestigationRow, UserRow

log = logging.getLogger(__name__)
S = InvestigationStatus
_CLAIM_LOCK = 0x6E73_6463  # "nsdc": one claim at a time across replicas


@dataclass(frozen=True, slots=True)
class DispatchPolicy:
    max_running: int
    max_running_per_agent: int
    limits: Mapping[Tier, UnitLimits]
    api_url: str
    interval_seconds: float = 1.0
    replica: str = ""  # this replica's id, recorded on every investigation it starts
    worker_env: Mapping[str, str] = field(default_factory=dict)
    # Called for each unit being started, in the claiming transaction: may add
    # to the row's spec (the reasoning-depth bound) and returns extra worker
    # environment (the trace context). See services/telemetry.py.
    prepare_launch: Callable[[Session, InvestigationRow], Mapping[str, str]] | None = None
    # Called in a claiming transaction before it takes anything: renews this
    # replica's heartbeat there, so no claim ever commits without a live heartbeat
    # (the leader would take the fresh unit for a dead replica's).
    claim_guard: Callable[[Session], None] | None = None


class Dispatcher:
    def __init__(
        self,
        db: Database,
        investigations: InvestigationService,
        executor: Executor,
        policy: DispatchPolicy,
        credentials: CredentialService | None = None,
    ) -> None:
        self._credentials = credentials
        self._db = db
        self._investigations = investigations
        self._executor = executor
        self._policy = policy
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # EventNotifier-compatible: any change to an investigation may free a slot.
    def publish(self, investigation_id: str) -> None:
        self.wake()

    def investigation_ended(self, investigation_id: str, status: str, reason: str) -> None:
        self._executor.stop(investigation_id, reason)
        self.wake()

    def wake(self) -> None:
        loop, event = self._loop, self._wake
        if loop is not None and event is not None and not loop.is_closed():
            loop.call_soon_threadsafe(event.set)

    async def run(self, stop: asyncio.Event) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        while not stop.is_set():
            try:
                await asyncio.to_thread(self.dispatch_once)
            except Exception:  # keep dispatching; the error is logged with its trace
                log.exception("dispatch pass failed")
            self._wake.clear()
            waiter = asyncio.ensure_future(self._wake.wait())
            stopper = asyncio.ensure_future(stop.wait())
            await asyncio.wait(
                {waiter, stopper},
                timeout=self._policy.interval_seconds,
                return_when=asyncio.FIRST_COMPLETED,
            )
            waiter.cancel()
            stopper.cancel()

    def dispatch_once(self) -> int:
        """Start as many queued investigations as the caps allow; returns how many."""
        claimed = self._claim()
        launches = []
        for launch, owner, domains, deadline in claimed:
            try:
                launch = self._with_handoff(launch, owner, domains, deadline)
            except Exception as exc:
                self._investigations.terminate(
                    launch.investigation_id,
                    S.FAILED,
                    f"secret broker refused the worker identity; not started (fails closed): {exc}",
                    only_if_active=True,
                )
                continue
            launches.append(launch)
        for launch in launches:
            try:
                ref = self._executor.start(launch)
            except Exception as exc:
                log.exception("could not start worker for %s", launch.investigation_id)
                self._investigations.terminate(
                    launch.investigation_id,
                    S.FAILED,
                    f"executor could not start the worker: {exc}",
                    only_if_active=True,
                )
                continue
            with self._db.transaction() as s:
                row = s.get(InvestigationRow, launch.investigation_id)
                if row is not None:
                    row.worker_ref = ref
        return len(launches)

    def _with_handoff(
        self, launch: WorkerLaunch, owner: str, domains: list[str], deadline: datetime
    ) -> WorkerLaunch:
        if self._credentials is None:
            return launch
        handoff = self._credentials.handoff(
            launch.investigation_id,
            agent=launch.agent,
            owner=owner,
            phase=launch.trust_phase,
            domains=domains,
            deadline=deadline,
        )
        return replace(
            launch, secrets_backend=self._credentials.backend, secrets_handoff=handoff.token
        )

    def _claim(self) -> list[tuple[WorkerLaunch, str, list[str], datetime]]:
        p = self._policy
        now = datetime.now(UTC)
        active = [st.value for st in ACTIVE_STATUSES]
        with self._db.transaction() as s:
            if s.get_bind().dialect.name == "postgresql":
                s.execute(select(func.pg_advisory_xact_lock(_CLAIM_LOCK)))
            per_agent = dict(
                s.execute(
                    select(InvestigationRow.agent_id, func.count())
                    .where(InvestigationRow.status.in_(active))
                    .group_by(InvestigationRow.agent_id)
                ).all()
            )
            free = p.max_running - sum(per_agent.values())
            if free <= 0:
                return []
            candidates = s.execute(
                select(InvestigationRow, AgentRow.name, UserRow.name, AgentRow.settings)
                .join(AgentRow, AgentRow.id == InvestigationRow.agent_id)
                .join(UserRow, UserRow.id == AgentRow.owner_id)
                .where(InvestigationRow.status == S.QUEUED.value)
                .order_by(InvestigationRow.priority, InvestigationRow.id)
                .limit(free + 10 * p.max_running_per_agent)
                .with_for_update(skip_locked=True, of=InvestigationRow)
            ).all()
            launches: list[tuple[WorkerLaunch, str, list[str], datetime]] = []
            if candidates and p.claim_guard is not None:
                p.claim_guard(s)
            for row, agent_name, owner_name, agent_settings in candidates:
                if len(launches) >= free:
                    break
                if per_agent.get(row.agent_id, 0) >= p.max_running_per_agent:
                    continue
                per_agent[row.agent_id] = per_agent.get(row.agent_id, 0) + 1
                tier = Tier(row.tier)
                base = p.limits[tier]
                deadline = int(row.spec.get("deadline_seconds") or base.deadline_seconds)
                limits = UnitLimits(base.memory_mb, base.cpu_seconds, deadline)
                row.deadline_at = now + timedelta(seconds=deadline)
                row.replica = p.replica or None
                self._investigations.transition(s, row, S.DISPATCHED)
                token = issue_worker_token(s, row.id, row.deadline_at + timedelta(seconds=30))
                env = dict(p.worker_env)
                if p.prepare_launch is not None:
                    env.update(p.prepare_launch(s, row))
                launch = WorkerLaunch(
                    investigation_id=row.id,
                    agent=agent_name,
                    trust_phase=row.trust_phase,
                    tier=tier,
                    api_url=p.api_url,
                    token=token,
                    limits=limits,
                    extra_env=env,
                )
                domains = [str(d) for d in row.spec.get("domains") or []]
                if (agent_settings or {}).get("llm") and "application" not in domains:
                    # The model's API key is the application domain's "llm" credential.
                    domains.append("application")
                launches.append((launch, owner_name, domains, row.deadline_at))
        return launches
