"""Bearer-token authentication and role checks as FastAPI dependencies."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Depends, HTTPException, Request, status

from nightshift.domain.access import Caller
from nightshift.domain.vocabulary import Role
from nightshift.services.principals import PrincipalService

_CHALLENGE = {"WWW-Authenticate": "Bearer"}


def caller(request: Request) -> Caller:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "missing bearer token", _CHALLENGE)
    principals: PrincipalService = request.app.state.container.principals
    found = principals.authenticate(token.strip())
    if found is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "invalid, expired or revoked token", _CHALLENGE
        )
    return found


def require(role: Role) -> Callable[[Caller], Caller]:
    """A dependency that lets through humans/services holding ``role``."""

    def check(who: Caller = Depends(caller)) -> Caller:
        if who.is_worker:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, "worker tokens may only use their worker endpoints"
            )
        if not who.has(role):
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"requires the {role.value} role")
        return who

    return check


def worker(who: Caller = Depends(caller)) -> Caller:
    if not who.is_worker:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "requires a worker token")
    return who
