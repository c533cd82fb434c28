"""/v1/changes: the change feed (post: operators and change senders; read: viewers),
and the worker's read of it for one investigation."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Response, status

from nightshift.api.auth import caller, worker
from nightshift.api.deps import ChangesDep
from nightshift.api.schemas_changes import ChangeIn, ChangeOut, ChangesOut, parse_since
from nightshift.domain.access import Caller
from nightshift.domain.changes import Change, ChangeKind, ChangeTarget
from nightshift.domain.vocabulary import Domain, Role
from nightshift.services.changes import ChangeQuery
from nightshift.services.errors import Invalid

router = APIRouter(prefix="/v1/changes", tags=["changes"])
worker_router = APIRouter(prefix="/v1/investigations/{inv_id}/worker", tags=["worker"])

TargetQ = Annotated[str | None, Query(max_length=200, description="substring of the target")]
DomainQ = Annotated[Domain | None, Query()]


def sender(who: Caller = Depends(caller)) -> Caller:
    """Operators, and service principals holding only ``change-sender``."""
    if who.is_worker:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "worker tokens may only use their worker endpoints"
        )
    if not (who.has(Role.OPERATOR) or who.has(Role.CHANGE_SENDER)):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "requires the operator or change-sender role"
        )
    return who


def viewer(who: Caller = Depends(caller)) -> Caller:
    if who.is_worker:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "worker tokens may only use their worker endpoints"
        )
    if not who.has(Role.VIEWER):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "requires the viewer role")
    return who


def change_out(c: Change) -> ChangeOut:
    obj = (
        {"kind": c.target.kind, "name": c.target.name, "namespace": c.target.namespace}
        if c.target.kind
        else None
    )
    return ChangeOut(
        id=c.id,
        ref=c.ref,
        at=c.at,
        actor=c.actor,
        summary=c.summary,
        details=c.details,
        kind=c.kind.value,
        domain=c.domain.value,
        target=c.target.display(),
        target_object=obj,
        link=c.link,
        submitted_by=c.submitted_by,
        before=dict(c.before) if c.before is not None else None,
    )


@router.post(
    "",
    status_code=201,
    response_model=ChangeOut,
    responses={200: {"model": ChangeOut, "description": "the same change again: already stored"}},
)
def post_change(
    body: ChangeIn, svc: ChangesDep, response: Response, who: Caller = Depends(sender)
) -> ChangeOut:
    """Record one change; the same ``id`` again with the same content answers 200."""
    target = (
        ChangeTarget(text=body.target)
        if isinstance(body.target, str)
        else ChangeTarget(body.target.kind, body.target.name, body.target.namespace or "")
    )
    change = Change(
        id="",
        ref=body.id or "",
        at=body.at,
        actor=body.actor,
        summary=body.summary,
        kind=body.kind,
        domain=body.domain,
        target=target,
        details=body.details,
        link=body.link,
        before=body.before,
    )
    stored, created = svc.record(who, change)
    if not created:
        response.status_code = status.HTTP_200_OK
    return change_out(stored)


@router.get("", response_model=list[ChangeOut])
def list_changes(
    svc: ChangesDep,
    _: Caller = Depends(viewer),
    since: Annotated[str | None, Query(max_length=40, description="RFC 3339 or 90m/6h/2d")] = None,
    domain: DomainQ = None,
    target: TargetQ = None,
    kind: Annotated[ChangeKind | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[ChangeOut]:
    try:
        moment = parse_since(since, datetime.now(UTC))
    except ValueError as exc:
        raise Invalid(str(exc)) from None
    query = ChangeQuery(since=moment, domain=domain, kind=kind, target=target or "", limit=limit)
    return [change_out(c) for c in svc.list(query)]


@worker_router.get("/changes", response_model=ChangesOut)
def worker_changes(
    inv_id: str,
    svc: ChangesDep,
    who: Caller = Depends(worker),
    since_minutes: Annotated[int, Query(ge=1, le=10080)] = 1440,
    domain: DomainQ = None,
    target: TargetQ = None,
    kind: Annotated[ChangeKind | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> ChangesOut:
    """The change feed as this investigation's evidence (the ``changes`` source)."""
    query = ChangeQuery(domain=domain, kind=kind, target=target or "", limit=limit)
    found = svc.for_worker(inv_id, who, since_minutes, query)
    return ChangesOut(changes=[change_out(c) for c in found])
