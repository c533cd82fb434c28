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
    container = request.app.state.container
    db_ok = container.db.ping()
    ready = db_ok and container.started
    body = {"status": "ready" if ready else "not ready", "database": db_ok}
    return JSONResponse(body, status_code=200 if ready else 503)
