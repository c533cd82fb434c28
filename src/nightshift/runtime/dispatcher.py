"""Admission to execution: starts the units of the investigations the dispatch
queue claims (services/dispatch_queue.py: priority then FIFO order, within the
global and per-agent concurrency caps, safe across replicas).

The queue itself is the investigations table (status ``queued``), so it is
durable: a restart loses nothing. The dispatcher wakes on submissions and
terminations, with a slow timer as a safety net. It holds no transaction of its
own: the claim, the worker-token issue and the state change happen in the
queue's, and what comes back is a ``Claim`` to start.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from nightshift.domain.vocabulary import InvestigationStatus, Tier
from nightshift.runtime.executors.protocol import Executor, UnitLimits, WorkerLaunch
from nightshift.services.credentials import CredentialService
from nightshift.services.dispatch_queue import Claim, ClaimCaps, DispatchQueue
from nightshift.services.investigations import InvestigationService

log = logging.getLogger(__name__)
S = InvestigationStatus


@dataclass(frozen=True, slots=True)
class DispatchPolicy:
    max_running: int
    max_running_per_agent: int
    limits: Mapping[Tier, UnitLimits]
    api_url: str
    interval_seconds: float = 1.0
    replica: str = ""  # this replica's id, recorded on every investigation it starts
    worker_env: Mapping[str, str] = field(default_factory=dict)

    def caps(self) -> ClaimCaps:
        return ClaimCaps(
            max_running=self.max_running,
            max_running_per_agent=self.max_running_per_agent,
            deadline_seconds={tier: lim.deadline_seconds for tier, lim in self.limits.items()},
            replica=self.replica,
        )


class Dispatcher:
    def __init__(
        self,
        queue: DispatchQueue,
        investigations: InvestigationService,
        executor: Executor,
        policy: DispatchPolicy,
        credentials: CredentialService | None = None,
    ) -> None:
        self._credentials = credentials
        self._queue = queue
        self._investigations = investigations
        self._executor = executor
        self._policy = policy
        self._caps = policy.caps()
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # QueueListener: a submission to claim. (A slot frees only at an end, below.)
    def investigation_queued(self, investigation_id: str) -> None:
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
        launches = []
        for claim in self._queue.claim_next(self._caps):
            launch = self._launch(claim)
            try:
                launch = self._with_handoff(launch, claim)
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
            self._queue.record_worker_ref(launch.investigation_id, ref)
        return len(launches)

    def _launch(self, claim: Claim) -> WorkerLaunch:
        p = self._policy
        base = p.limits[claim.tier]
        return WorkerLaunch(
            investigation_id=claim.investigation_id,
            agent=claim.agent,
            trust_phase=claim.trust_phase,
            tier=claim.tier,
            api_url=p.api_url,
            token=claim.token,
            limits=UnitLimits(base.memory_mb, base.cpu_seconds, claim.deadline_seconds),
            extra_env={**p.worker_env, **claim.extra_env},
        )

    def _with_handoff(self, launch: WorkerLaunch, claim: Claim) -> WorkerLaunch:
        if self._credentials is None:
            return launch
        handoff = self._credentials.handoff(
            launch.investigation_id,
            agent=launch.agent,
            owner=claim.owner,
            phase=launch.trust_phase,
            domains=claim.credential_domains,
            deadline=claim.deadline_at,
        )
        return replace(
            launch, secrets_backend=self._credentials.backend, secrets_handoff=handoff.token
        )
