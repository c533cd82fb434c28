"""Console sign-in state: the session cookie, the caller it names, CSRF checks.

The cookie holds a random session secret (never the API token). Every request
re-authenticates it through :class:`ConsoleSessionService`, so a revoked token
or a removed role takes effect on the next click. Every state-changing form
carries the session's CSRF token; SameSite=Strict is a second line, not the
only one.
"""

from __future__ import annotations

import hmac
from datetime import datetime

from fastapi import HTTPException, Request, status

from nightshift.api.deps import console_sessions
from nightshift.domain.access import Caller
from nightshift.domain.vocabulary import Role
from nightshift.services.console_sessions import Session
from nightshift.settings import Settings

COOKIE = "nightshift_console"


class SignInRequired(Exception):
    """Raised by pages when nobody is signed in; answered with a redirect."""


def current(request: Request) -> Session | None:
    secret = request.cookies.get(COOKIE, "")
    return console_sessions(request).authenticate(secret) if secret else None


def signed_in(request: Request) -> Session:
    """The page's session; unauthenticated readers are sent to the sign-in page."""
    found = current(request)
    if found is None:
        raise SignInRequired
    return found


def require(found: Session, role: Role) -> Caller:
    """The API's rule (auth.require): the caller must hold ``role``; 403 otherwise."""
    if found.caller.is_worker or not found.caller.has(role):
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"requires the {role.value} role")
    return found.caller


def check_csrf(found: Session, submitted: object) -> None:
    if not isinstance(submitted, str) or not hmac.compare_digest(submitted, found.csrf):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "missing or wrong CSRF token")


def secure_cookie(settings: Settings, request: Request) -> bool:
    mode = settings.console_cookie_secure
    if mode == "always":
        return True
    if mode == "never":
        return False
    return request.url.scheme == "https"  # "auto": Secure when served over TLS


def set_cookie(
    response: object, request: Request, secret: str, expires: datetime, settings: Settings
) -> None:
    from starlette.responses import Response

    assert isinstance(response, Response)
    response.set_cookie(
        COOKIE,
        secret,
        expires=expires,
        httponly=True,
        samesite="strict",
        secure=secure_cookie(settings, request),
        path="/",
    )
