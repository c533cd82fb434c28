"""Console forms that change state. Each one: the same role as the API route
it mirrors (``Operator``/``OpsLead``, which also check the session and its
CSRF token), then the same service call, through the same declared
dependencies, so the audit trail and every server-side check are the API's
own (see forms.py).
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter
from starlette.responses import Response

from nightshift.api.deps import (
    ApprovalsDep,
    ExecutionDep,
    KillSwitchDep,
    PhasesDep,
    VerdictsDep,
)
from nightshift.domain.diagnosis import ResourceRef
from nightshift.domain.verdicts import Claim, VerdictKind
from nightshift.domain.vocabulary import Role, TrustPhase
from nightshift.services.errors import Invalid, ServiceError
from nightshift.services.proposals import ProposalView
from nightshift.web.forms import Name, Operator, OpsLead, Text
from nightshift.web.responses import with_notice

router = APIRouter(include_in_schema=False)


def _decided(v: ProposalView) -> str:
    """A proposal's new state as the page reports it."""
    return f"{v.action}: {v.status}"


@router.post("/approvals/{pid}/approve")
def approve(
    pid: str,
    post: Operator,
    approvals: ApprovalsDep,
    reason: Text = "",
    kind: Name = "",
    name: Name = "",
    namespace: Name = "",
) -> Response:
    def act() -> str:
        target = ResourceRef(kind, name, namespace or None) if kind and name else None
        v = approvals.approve(pid, post.caller, reason=reason, target=target, params=None)
        return f"{v.action} on {v.target.get('kind')}/{v.target.get('name')}: {v.status}"

    return post.answer("/approvals", act)


@router.post("/approvals/{pid}/reject")
def reject(pid: str, post: Operator, approvals: ApprovalsDep, reason: Text = "") -> Response:
    return post.answer(
        "/approvals", lambda: _decided(approvals.reject(pid, post.caller, reason=reason))
    )


@router.post("/approvals/{pid}/rollback")
def rollback(pid: str, post: Operator, execution: ExecutionDep, reason: Text = "") -> Response:
    return post.answer("/approvals", lambda: _decided(execution.rollback(pid, post.caller, reason)))


@router.post("/investigations/{inv_id}/verdict")
def judge(
    inv_id: str,
    post: Operator,
    verdicts: VerdictsDep,
    kind: Name = "",
    reason: Text = "",
    category: Name = "",
    remediation_class: Name = "",
    fault: Name = "",
) -> Response:
    def act() -> str:
        try:
            verdict = VerdictKind(kind)
        except ValueError:
            raise Invalid("verdict must be accept, reject or modify") from None
        modified = (
            Claim(category, remediation_class, fault or None)
            if verdict is VerdictKind.MODIFY
            else None
        )
        v = verdicts.judge(inv_id, post.caller, verdict, reason=reason, modified=modified)
        edit = "" if v.minimal_edit is None else (" (minimal edit)" if v.minimal_edit else "")
        return f"verdict {v.kind} recorded{edit}"

    return post.answer(f"/investigations/{quote(inv_id)}", act)


@router.post("/agents/{name}/signoff")
def sign_off(
    name: str, post: Operator, phases: PhasesDep, target: Name = "", role: Name = ""
) -> Response:
    def act() -> str:
        phase = _phase(target)
        try:
            signed = Role(role)
        except ValueError:
            raise Invalid(f"unknown role {role!r}") from None
        phases.sign_off(name, phase, signed, post.caller)
        return f"signed {phase.value} for {name} as {signed.value}"

    return post.answer("/agents", act)


@router.post("/agents/{name}/promote")
def promote(
    name: str, post: OpsLead, phases: PhasesDep, target: Name = "", reason: Text = ""
) -> Response:
    if phases.proposals_git is not None:
        # GitOps: the reviewed merge is the promotion; nothing changes live here. The
        # page shows what `nightshift promote` prints, for opening the pull request.
        try:
            branch = phases.promote_in_git(name, _phase(target), post.caller, reason)
        except ServiceError as exc:
            return with_notice("/agents", post.session, "error", str(exc))
        done = f"{name}: no live change; the promotion to {target} is a commit for review"
        # only the branch travels in the URL: the page reads the commit back from Git,
        # so a crafted link cannot show a reviewer text (or a command) of its own
        return with_notice("/agents", post.session, "ok", done, branch=branch)

    def act() -> str:
        phases.promote(name, _phase(target), post.caller, reason)
        return f"{name} promoted to {target}"

    return post.answer("/agents", act)


@router.post("/kill-switch")
def kill_switch(
    post: OpsLead, ks: KillSwitchDep, agent: Name = "", reason: Text = "", engage: Name = ""
) -> Response:
    def act() -> str:
        who = agent or None
        if engage == "yes":
            stopped = ks.engage(who, post.caller, reason)
            return f"kill switch engaged ({agent or 'global'}); stopped {stopped}"
        ks.release(who, post.caller, reason)
        return f"kill switch released ({agent or 'global'})"

    return post.answer("/agents", act)


def _phase(value: str) -> TrustPhase:
    try:
        return TrustPhase(value)
    except ValueError:
        raise Invalid(f"unknown trust phase {value!r}") from None
