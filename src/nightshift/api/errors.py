"""One place that turns failures into clear 4xx bodies (never a bare 500)."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from nightshift.services.errors import (
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    QueueFull,
    ServiceError,
    Unavailable,
)
from nightshift.store.storage_errors import storage_problem

log = logging.getLogger(__name__)
# How long a client should wait before retrying when the storage refuses writes.
STORAGE_RETRY_AFTER_SECONDS = 30

_STATUS: dict[type[ServiceError], int] = {
    NotFound: 404,
    Conflict: 409,
    Forbidden: 403,
    Invalid: 422,
    QueueFull: 429,
    Unavailable: 503,
}


def _body(error: str, message: str, details: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"error": error, "message": message}
    if details is not None:
        out["details"] = details
    return out


def install(app: FastAPI) -> None:
    @app.exception_handler(ServiceError)
    async def service_error(_: Request, exc: ServiceError) -> JSONResponse:
        code = next((_STATUS[k] for k in type(exc).__mro__ if k in _STATUS), 400)
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, QueueFull) else None
        return JSONResponse(_body(exc.code, str(exc)), status_code=code, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {"field": ".".join(str(p) for p in e.get("loc", ())), "problem": e.get("msg", "")}
            for e in exc.errors()
        ]
        summary = "; ".join(f"{d['field']}: {d['problem']}" for d in details[:5])
        return JSONResponse(
            _body("invalid_request", f"request validation failed: {summary}", details), 422
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(
            _body(f"http_{exc.status_code}", str(exc.detail)),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(DBAPIError)
    async def storage(_: Request, exc: DBAPIError) -> JSONResponse:
        problem = storage_problem(exc)
        if problem is None:
            log.exception("unhandled database error", exc_info=exc)
            return JSONResponse(_body("internal", "internal error; see the server log"), 500)
        log.error("storage refused the request: %s (%s)", problem, exc.orig)
        return JSONResponse(
            _body("storage_unavailable", f"{problem}; nothing was changed, retry later"),
            status_code=503,
            headers={"Retry-After": str(STORAGE_RETRY_AFTER_SECONDS)},
        )

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return JSONResponse(_body("internal", "internal error; see the server log"), 500)


class BodyLimit:
    """Refuse bodies over ``limit`` bytes with 413, whether or not a length is declared."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await _too_large(send, self.limit)
            return
        # Buffer the (small, bounded) body first: once the app has started
        # reading, a refusal could no longer be a clean 413.
        chunks: list[bytes] = []
        seen = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > self.limit:
                await _too_large(send, self.limit)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


async def _too_large(send: Send, limit: int) -> None:
    import json

    body = json.dumps(_body("too_large", f"request body exceeds {limit} bytes")).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": body})


# The error statuses any operation may answer, each with the one error body.
_DECLARED_ERRORS = {
    "400": "malformed request",
    "401": "missing, invalid, expired or revoked token",
    "403": "the caller may not do this",
    "404": "no such object",
    "409": "the object is not in a state that allows this",
    "413": "request body too large",
    "422": "invalid request: the message names the field",
    "429": "queue full or rate limited; see Retry-After",
    "503": "storage or a dependency is unavailable; see Retry-After",
}
_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {
        "error": {"type": "string"},
        "message": {"type": "string"},
        "details": {"type": "array", "items": {"type": "object"}},
    },
}


def declare_error_responses(app: FastAPI) -> None:
    """Declare the error answers every operation may give in the OpenAPI document
    (FastAPI lists only 200 and 422), so clients and fuzzers know them."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        doc = generate()
        doc.setdefault("components", {}).setdefault("schemas", {})["Error"] = _ERROR_SCHEMA
        ref = {"$ref": "#/components/schemas/Error"}
        for item in doc.get("paths", {}).values():
            for operation in item.values():
                responses = operation.setdefault("responses", {})
                for code, why in _DECLARED_ERRORS.items():
                    responses[code] = {
                        "description": why,
                        "content": {"application/json": {"schema": ref}},
                    }
        app.openapi_schema = doc
        return doc

    app.openapi = openapi  # type: ignore[method-assign]
