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
    """Ready when started and the database answers and takes writes (a write
    rolled back, cached for a couple of seconds)."""
    # The composition root's own state (database, start-up, leases), not one service's.
    db_ok = container.db.ping()
    problem = container.db.write_problem() if db_ok else "the database does not answer"
    ready = db_ok and problem is None and container.started
    body: dict[str, object] = {
        "status": "ready" if ready else "not ready",
        "database": db_ok,
        "database_writable": db_ok and problem is None,
        # Which replica answered and whether it holds the leader lease (several
        # replicas on one database: docs/control-plane.md, "Several replicas").
        "replica": container.leases.replica,
        "leader": container.leases.is_leader(),
    }
    if problem is not None:
        body["problem"] = problem
    return JSONResponse(body, status_code=200 if ready else 503)
