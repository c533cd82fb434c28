"""Mounts the console on the API's app: pages, forms, static files."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response
from starlette.types import Scope

from nightshift.web import actions, pages, pages_records, pages_safety
from nightshift.web.responses import HERE, redirect
from nightshift.web.session import SignInRequired


class _Static(StaticFiles):
    """Static files with the console's headers (CSP, nosniff)."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        from nightshift.web.responses import HEADERS

        resp = await super().get_response(path, scope)
        resp.headers.update(HEADERS)
        resp.headers["Cache-Control"] = "no-cache"
        return resp


def install(app: FastAPI) -> None:
    app.include_router(pages.router)
    app.include_router(actions.router)
    app.include_router(pages_safety.router)  # escalations, shadow review
    app.include_router(pages_records.router)  # audit, costs, alerts
    app.mount("/static", _Static(directory=HERE / "static"), name="console-static")

    @app.exception_handler(SignInRequired)
    async def sign_in(_: Request, __: SignInRequired) -> Response:
        return redirect("/login")
