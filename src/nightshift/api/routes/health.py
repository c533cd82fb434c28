"""Liveness and readiness (unauthenticated, no state change)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from nightshift.api.deps import ContainerDep

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
def readyz(container: ContainerDep) -> JSONResponse:
    """Ready when started, the database answers and takes writes (a write rolled
    back, cached for a couple of seconds) and the executor is not still warming up
    (the local worker template's imports, ~1 s after start; at most 15 s)."""
    # The composition root's own state (database, start-up, leases), not one service's.
    db_ok = container.db.ping()
    problem = container.db.write_problem() if db_ok else "the database does not answer"
    warming = container.warming_up()
    ready = db_ok and problem is None and container.started and not warming
    body: dict[str, object] = {
        "status": "ready" if ready else "not ready",
        "database": db_ok,
        "database_writable": db_ok and problem is None,
        "executor_warming_up": warming,
        # Which replica answered and whether it holds the leader lease (several
        # replicas on one database: docs/control-plane.md, "Several replicas").
        "replica": container.leases.replica,
        "leader": container.leases.is_leader(),
    }
    if problem is not None:
        body["problem"] = problem
    return JSONResponse(body, status_code=200 if ready else 503)
