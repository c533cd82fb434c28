"""``nightshift users sign-in-link``: a one-time web-console link for a person.

Works on the database directly, like ``users create`` (it is how the demo
signs its owner in without showing an API token in a URL). The link's secret
is printed once and stored only as its SHA-256; it opens one session, within
``--ttl`` seconds (at most 15 minutes), and is never written to a log.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

import typer

from nightshift.cli.client import EXIT_API, fail
from nightshift.services.console_sessions import MAX_LINK_SECONDS
from nightshift.services.errors import ServiceError
from nightshift.settings import Settings


def register(users_app: typer.Typer) -> None:
    users_app.command("sign-in-link")(sign_in_link)


def sign_in_link(
    name: str,
    to: Annotated[
        str, typer.Option("--to", help="console page to open, e.g. /investigations/ID")
    ] = ("/investigations"),
    ttl: Annotated[
        int, typer.Option(min=1, max=MAX_LINK_SECONDS, help="seconds the link stays valid")
    ] = 300,
) -> None:
    """Print a single-use console sign-in link for a human user."""
    from nightshift.bootstrap import build_container
    from nightshift.web.links import local_path

    if local_path(to) is None:
        fail(f"--to must be a console path starting with one /, got {to!r}", code=2)
    settings = Settings()
    c = build_container(settings)
    try:
        secret = c.console_sessions.issue_link(name, ttl_seconds=ttl)
    except ServiceError as exc:
        fail(str(exc), code=EXIT_API)
    finally:
        c.db.dispose()
    query = urlencode({"secret": secret, "next": to})
    typer.echo(f"{settings.public_url.rstrip('/')}/login/link?{query}")
