"""Bearer-token authentication and role checks as FastAPI dependencies."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Depends, HTTPException, Request, status

from nightshift.api.deps import PrincipalsDep
from nightshift.domain.access import Caller
from nightshift.domain.vocabulary import Role

_CHALLENGE = {"WWW-Authenticate": "Bearer"}


def caller(request: Request, principals: PrincipalsDep) -> Caller:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "missing bearer token", _CHALLENGE)
    found = principals.authenticate(token.strip())
    if found is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "invalid, expired or revoked token", _CHALLENGE
        )
    return found


def require(role: Role) -> Callable[[Caller], Awaitable[Caller]]:
    """A dependency that lets through humans/services holding ``role``."""

    async def check(who: Caller = Depends(caller)) -> Caller:  # pure: no worker thread
        if who.is_worker:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, "worker tokens may only use their worker endpoints"
            )
        if not who.has(role):
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"requires the {role.value} role")
        return who

    return check


async def worker(request: Request, who: Caller = Depends(caller)) -> Caller:
    """A worker token, and for a path naming an investigation, that investigation's:
    checked before the body is read, so another worker learns nothing (not even
    a validation error) from an endpoint it may not use."""
    if not who.is_worker:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "requires a worker token")
    named = request.path_params.get("inv_id")
    if named is not None and named != who.investigation_id:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "only this investigation's worker may use this endpoint"
        )
    return who
