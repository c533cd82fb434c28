"""What every console form that changes state goes through, declared once.

A handler names who may post it (``Operator`` or ``OpsLead``, FastAPI
dependencies) and gets a :class:`Posted`: the session is signed in, its CSRF
token matches (checked before the role, so a forged post learns nothing) and
the caller holds the role, the API's rule. The handler declares the services
it calls as the API routes do (``api/deps.py``), makes the same call as the
route it mirrors, through :meth:`Posted.answer`, so a refusal by the service
comes back to the page as an escaped message and nothing is stored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Form, Request
from starlette.responses import Response

from nightshift.domain.access import Caller
from nightshift.domain.vocabulary import Role
from nightshift.services.console_sessions import Session
from nightshift.services.errors import ServiceError
from nightshift.web.responses import with_notice
from nightshift.web.session import check_csrf, require, signed_in

Text = Annotated[str, Form(max_length=2000)]
Name = Annotated[str, Form(max_length=253)]


@dataclass(frozen=True, slots=True)
class Posted:
    """A form post whose session, CSRF token and role were checked."""

    caller: Caller
    session: Session

    def answer(self, back: str, act: Callable[[], str]) -> Response:
        """Back to ``back`` with what ``act`` did, or with why the service refused it."""
        try:
            done = act()
        except ServiceError as exc:
            return with_notice(back, self.session, "error", str(exc))
        return with_notice(back, self.session, "ok", done)


def _posted_by(role: Role) -> Callable[[Request, str], Posted]:
    def check(request: Request, csrf: Text = "") -> Posted:
        found = signed_in(request)
        check_csrf(found, csrf)
        require(found, role)
        return Posted(found.caller, found)

    return check


Operator = Annotated[Posted, Depends(_posted_by(Role.OPERATOR))]
OpsLead = Annotated[Posted, Depends(_posted_by(Role.OPS_LEAD))]
