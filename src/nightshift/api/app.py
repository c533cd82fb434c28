"""FastAPI application factory; the lifespan runs dispatcher and reconciler."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable

from fastapi import FastAPI
from sqlalchemy.exc import DBAPIError
from starlette.types import ASGIApp

import nightshift
from nightshift.api import errors
from nightshift.api.routes import (
    agents,
    alert_routes,
    alerts,
    approvals,
    changes,
    escalations,
    governance,
    health,
    investigations,
    observability,
    reviews,
    verdicts,
    worker,
)
from nightshift.api.strict_json import StrictJson
from nightshift.bootstrap import Container
from nightshift.store.storage_errors import storage_problem
from nightshift.web import app as console

log = logging.getLogger(__name__)
_RECONCILE_SECONDS = 5.0


def _first_heartbeat(container: Container) -> None:
    """The replica's first heartbeat. A database that cannot take writes (read-only,
    full, down) must not keep the API from starting: requests then get 503s with
    the reason and readiness says so, and the replica loop keeps trying."""
    try:
        container.leases.tick()
    except DBAPIError as exc:
        problem = storage_problem(exc)
        if problem is None:
            raise
        log.warning("starting without a heartbeat: %s", problem)


def create_app(container: Container, *, background: bool = True) -> ASGIApp:
    """The ASGI app. ``background=False`` leaves dispatching and reconciling to
    the caller (tests drive them step by step)."""

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        stop = asyncio.Event()
        # The heartbeat goes first: a replica's claims must never predate it, or the
        # leader would take its fresh units for a dead replica's.
        await asyncio.to_thread(_first_heartbeat, container)
        if container.wakeups is not None:  # PostgreSQL: wake-ups from other replicas
            container.wakeups.start()
        await asyncio.to_thread(container.reconciler.recover_after_restart)
        tasks = (
            [
                asyncio.create_task(container.dispatcher.run(stop), name="dispatcher"),
                asyncio.create_task(_reconcile_forever(container, stop), name="reconciler"),
                asyncio.create_task(container.replicas.run(stop), name="replicas"),
            ]
            if background
            else []
        )
        container.started = True
        try:
            yield
        finally:
            container.started = False
            stop.set()
            await asyncio.gather(*tasks, return_exceptions=True)
            with contextlib.suppress(Exception):  # down database: the TTL ends it
                await asyncio.to_thread(container.leases.release)
            if container.wakeups is not None:
                await asyncio.to_thread(container.wakeups.close)
            container.close()

    app = FastAPI(
        title="Nightshift",
        version=nightshift.__version__,
        description="Governed autonomous diagnostic agents: control-plane API.",
        lifespan=lifespan,
    )
    app.state.container = container
    errors.install(app)
    for extra in (approvals, verdicts, escalations, reviews):  # the operator workflow
        app.include_router(extra.router)
    for module in (health, agents, investigations, worker, governance):
        app.include_router(module.router)
    app.include_router(observability.router)  # /metrics, /v1/costs, gate progress
    for intake in (alerts, alert_routes):  # alert intake and routing (docs/alerts.md)
        app.include_router(intake.router)
    app.include_router(changes.router)  # the change feed (docs/changes.md)
    app.include_router(changes.worker_router)
    console.install(app)  # the web console at / (docs/console.md)
    errors.declare_error_responses(app)
    return errors.BodyLimit(StrictJson(app), container.settings.max_body_bytes)


async def _reconcile_forever(container: Container, stop: asyncio.Event) -> None:
    retention = container.settings.log_retention_days * 86400
    r = container.reconciler
    # Each replica keeps its own units and logs honest; the singletons run on the
    # leader alone (docs/control-plane.md, "Several replicas").
    own: tuple[Callable[[], object], ...] = (
        r.retry_exits,  # first: a refused exit write is the oldest debt
        r.enforce_deadlines,
        r.find_unrecorded_ends,
        lambda: container.executor.purge_logs(retention),
    )
    leader_only: tuple[Callable[[], object], ...] = (
        container.replicas.recover_orphans,  # a dead replica's units
        r.retry_revocations,
        container.approvals.expire_due,
        r.settle_stale_executions,
        container.gateway_holds.settle_abandoned,  # held calls whose gateway is gone
        container.phases.check_demotions,  # demotion is automatic, never a cron job
        lambda: container.audit.anchor_if_due(container.settings.audit_anchor_interval_seconds),
    )
    while not stop.is_set():
        steps = own + leader_only if container.leases.is_leader() else own
        for step in steps:  # one failing step (storage down) does not skip the others
            try:
                await asyncio.to_thread(step)
            except Exception:
                log.exception("reconcile step failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), _RECONCILE_SECONDS)
