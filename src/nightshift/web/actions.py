"""Console forms that change state. Each one: a signed-in session, its CSRF
token, the same role as the API route it mirrors, then the same service call
(so the audit trail and every server-side check are the API's own). A refusal
by the service comes back to the page as an escaped message, nothing stored.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from nightshift.domain.diagnosis import ResourceRef
from nightshift.domain.verdicts import Claim, VerdictKind
from nightshift.domain.vocabulary import Role, TrustPhase
from nightshift.services.console_sessions import Session
from nightshift.services.errors import ServiceError
from nightshift.web.render import redirect
from nightshift.web.session import check_csrf, require, signed_in

router = APIRouter(include_in_schema=False)
Text = Annotated[str, Form(max_length=2000)]
Name = Annotated[str, Form(max_length=253)]


def guarded(
    request: Request, csrf: str, role: Role, back: str, act: Callable[[Session], str]
) -> Response:
    found = signed_in(request)
    check_csrf(found, csrf)  # before the role: a forged post learns nothing
    require(found, role)
    try:
        done = act(found)
    except ServiceError as exc:
        return redirect(f"{back}?error={quote(str(exc)[:400])}")
    return redirect(f"{back}?ok={quote(done)}")


@router.post("/approvals/{pid}/approve")
def approve(
    request: Request,
    pid: str,
    csrf: Text = "",
    reason: Text = "",
    kind: Name = "",
    name: Name = "",
    namespace: Name = "",
) -> Response:
    def act(s: Session) -> str:
        target = ResourceRef(kind, name, namespace or None) if kind and name else None
        v = request.app.state.container.approvals.approve(
            pid, s.caller, reason=reason, target=target, params=None
        )
        return f"{v.action} on {v.target.get('kind')}/{v.target.get('name')}: {v.status}"

    return guarded(request, csrf, Role.OPERATOR, "/approvals", act)


@router.post("/approvals/{pid}/reject")
def reject(request: Request, pid: str, csrf: Text = "", reason: Text = "") -> Response:
    def act(s: Session) -> str:
        v = request.app.state.container.approvals.reject(pid, s.caller, reason=reason)
        return f"{v.action}: {v.status}"

    return guarded(request, csrf, Role.OPERATOR, "/approvals", act)


@router.post("/approvals/{pid}/rollback")
def rollback(request: Request, pid: str, csrf: Text = "", reason: Text = "") -> Response:
    def act(s: Session) -> str:
        v = request.app.state.container.execution.rollback(pid, s.caller, reason)
        return f"{v.action}: {v.status}"

    return guarded(request, csrf, Role.OPERATOR, "/approvals", act)


@router.post("/investigations/{inv_id}/verdict")
def judge(
    request: Request,
    inv_id: str,
    csrf: Text = "",
    kind: Name = "",
    reason: Text = "",
    category: Name = "",
    remediation_class: Name = "",
    fault: Name = "",
) -> Response:
    def act(s: Session) -> str:
        try:
            verdict = VerdictKind(kind)
        except ValueError:
            from nightshift.services.errors import Invalid

            raise Invalid("verdict must be accept, reject or modify") from None
        modified = (
            Claim(category, remediation_class, fault or None)
            if verdict is VerdictKind.MODIFY
            else None
        )
        v = request.app.state.container.verdicts.judge(
            inv_id, s.caller, verdict, reason=reason, modified=modified
        )
        edit = "" if v.minimal_edit is None else (" (minimal edit)" if v.minimal_edit else "")
        return f"verdict {v.kind} recorded{edit}"

    return guarded(request, csrf, Role.OPERATOR, f"/investigations/{quote(inv_id)}", act)


@router.post("/agents/{name}/signoff")
def sign_off(
    request: Request, name: str, csrf: Text = "", target: Name = "", role: Name = ""
) -> Response:
    def act(s: Session) -> str:
        phase = _phase(target)
        try:
            signed = Role(role)
        except ValueError:
            from nightshift.services.errors import Invalid

            raise Invalid(f"unknown role {role!r}") from None
        request.app.state.container.phases.sign_off(name, phase, signed, s.caller)
        return f"signed {phase.value} for {name} as {signed.value}"

    return guarded(request, csrf, Role.OPERATOR, "/agents", act)


@router.post("/agents/{name}/promote")
def promote(
    request: Request, name: str, csrf: Text = "", target: Name = "", reason: Text = ""
) -> Response:
    def act(s: Session) -> str:
        request.app.state.container.phases.promote(name, _phase(target), s.caller, reason)
        return f"{name} promoted to {target}"

    return guarded(request, csrf, Role.OPS_LEAD, "/agents", act)


@router.post("/kill-switch")
def kill_switch(
    request: Request, csrf: Text = "", agent: Name = "", reason: Text = "", engage: Name = ""
) -> Response:
    def act(s: Session) -> str:
        ks = request.app.state.container.kill_switch
        who = agent or None
        if engage == "yes":
            stopped = ks.engage(who, s.caller, reason)
            return f"kill switch engaged ({agent or 'global'}); stopped {stopped}"
        ks.release(who, s.caller, reason)
        return f"kill switch released ({agent or 'global'})"

    return guarded(request, csrf, Role.OPS_LEAD, "/agents", act)


def _phase(value: str) -> TrustPhase:
    try:
        return TrustPhase(value)
    except ValueError:
        from nightshift.services.errors import Invalid

        raise Invalid(f"unknown trust phase {value!r}") from None
