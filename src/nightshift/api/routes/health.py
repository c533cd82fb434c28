"""Liveness and readiness (unauthenticated, no state change)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
def readyz(request: Request) -> JSONResponse:
    """Ready when started and the database answers and takes writes (a write
    rolled back, cached for a couple of seconds)."""
    container = request.app.state.container
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
