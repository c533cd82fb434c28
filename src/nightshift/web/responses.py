"""The console's responses: Jinja pages and redirects, each with the security headers."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.responses import Response

from nightshift.api.deps import kill_switch
from nightshift.services.console_sessions import Session
from nightshift.web import views

HERE = Path(__file__).parent
# No inline script or style anywhere: text from logs and tools that slipped past
# escaping still could not run. Framing is refused (clickjacking on approve).
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

env = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=True,  # every {{ }} is escaped; nothing in the templates uses |safe
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
env.filters["pretty"] = views.pretty
env.filters["pct"] = lambda x: f"{float(x or 0) * 100:.0f}%"


def secure(response: Response) -> Response:
    response.headers.update(HEADERS)
    return response


def page(
    request: Request, name: str, session: Session | None, status_code: int = 200, **ctx: Any
) -> Response:
    from nightshift.domain.vocabulary import Role

    caller = session.caller if session else None
    ks = kill_switch(request).kill_switch() if session else None  # the banner on every page
    html = env.get_template(name).render(
        request=request,
        me=caller,
        csrf=session.csrf if session else "",
        can_operate=bool(caller and caller.has(Role.OPERATOR)),
        can_lead=bool(caller and caller.has(Role.OPS_LEAD)),
        kill=ks,
        flash=_notice(request, session, "error"),
        notice=_notice(request, session, "ok"),
        **ctx,
    )
    return secure(HTMLResponse(html, status_code=status_code))


def redirect(url: str) -> Response:
    return secure(RedirectResponse(url, status_code=303))


NoticeKind = Literal["ok", "error"]
_NOTICE_CHARS = 500


def _signature(session: Session, kind: NoticeKind, text: str) -> str:
    mac = hmac.new(session.csrf.encode(), f"{kind}\0{text}".encode(), hashlib.sha256)
    return mac.hexdigest()[:32]


def with_notice(path: str, session: Session, kind: NoticeKind, text: str, **extra: str) -> Response:
    """Back to ``path`` with a notice for this session only: it is signed with the
    session's CSRF secret, so a crafted link cannot put words of its own (``your
    session expired, sign in at ...``) on a reader's console."""
    text = text[:_NOTICE_CHARS]
    query = {kind: text, "sig": _signature(session, kind, text), **extra}
    return redirect(f"{path}?{urlencode(query)}")


def _notice(request: Request, session: Session | None, kind: NoticeKind) -> str:
    text = request.query_params.get(kind, "")
    if not text or session is None:
        return ""
    given = request.query_params.get("sig", "")
    return text if hmac.compare_digest(given, _signature(session, kind, text)) else ""
