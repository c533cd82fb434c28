"""``nightshift gateway``: the governance gateway for third-party MCP agents, and
the tokens that bind such an agent to its registered identity."""

from __future__ import annotations

import getpass
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from nightshift.cli.client import EXIT_API, EXIT_USAGE, fail
from nightshift.domain.access import Caller
from nightshift.domain.vocabulary import PrincipalKind
from nightshift.services.errors import ServiceError
from nightshift.settings import Settings

if TYPE_CHECKING:
    from nightshift.gateway.calls import GatewayCalls

out = Console()
gateway_app = typer.Typer(
    help="Governance gateway: an MCP proxy that makes a third-party agent a governed identity",
    no_args_is_help=True,
)


def _local_operator() -> Caller:
    # These commands work on the database directly (like `nightshift agents`): the
    # audit names the operating-system user who ran them.
    return Caller(f"local:{getpass.getuser()}", PrincipalKind.HUMAN, frozenset())


def _calls(settings: Settings, hold_seconds: float) -> GatewayCalls:
    import anyio

    from nightshift.bootstrap import build_container
    from nightshift.gateway.calls import GatewayCalls
    from nightshift.gateway.upstream import discover
    from nightshift.services.gateway import GatewayService
    from nightshift.services.gateway_holds import GatewayHolds
    from nightshift.sources.config import SourcesError

    c = build_container(settings)
    try:
        tools = anyio.run(discover, c.sources)
    except SourcesError as exc:
        fail(str(exc), code=EXIT_USAGE)
    service = GatewayService(c.db, c.audit, c.kill_switch)
    return GatewayCalls(
        service, tools, c.catalog, intent_required=settings.gateway_intent_required,
        holds=GatewayHolds(c.db, c.audit), hold_seconds=hold_seconds,
    )  # fmt: skip


@gateway_app.command("serve")
def serve(
    transport: Annotated[str, typer.Option(help="http | stdio")] = "http",
    host: Annotated[str, typer.Option(help="http: address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="http: port (MCP at /mcp, metrics at /metrics)")] = 8766,
    token: Annotated[
        str | None,
        typer.Option(envvar="NIGHTSHIFT_GATEWAY_TOKEN", help="stdio: the agent's gateway token"),
    ] = None,
    hold_seconds: Annotated[
        float,
        typer.Option(
            envvar="NIGHTSHIFT_GATEWAY_HOLD_SECONDS",
            min=1.0,
            max=3600.0,
            help="how long a call that needs approval waits for a human before it expires",
        ),
    ] = 120.0,
) -> None:
    """Proxy the mcp sources of the sources file to one or many agents, each call
    decided by policy, budgeted, chain-checked, redacted and audited with its intent."""
    if transport not in ("http", "stdio"):
        raise typer.BadParameter("use http or stdio", param_hint="--transport")
    if transport == "stdio" and not token:
        fail(
            "stdio: give the agent's gateway token (--token or NIGHTSHIFT_GATEWAY_TOKEN)",
            EXIT_USAGE,
        )
    calls = _calls(Settings(), hold_seconds)
    from nightshift.gateway.server import http_app, run_stdio

    if transport == "stdio":
        assert token is not None
        run_stdio(calls, token)
        return
    import uvicorn

    uvicorn.run(http_app(calls, host), host=host, port=port, log_level="warning")


@gateway_app.command("token")
def token_create(
    agent: str,
    description: Annotated[str, typer.Option(help="what the token is for")] = "",
) -> None:
    """Issue a gateway token bound to a registered agent; printed once, on stdout alone."""
    from nightshift.bootstrap import build_container
    from nightshift.services.gateway import GatewayService

    c = build_container(Settings())
    try:
        token = GatewayService(c.db, c.audit, c.kill_switch).issue_token(
            agent, _local_operator(), description
        )
    except ServiceError as exc:
        fail(str(exc), code=EXIT_API)
    finally:
        c.db.dispose()
    typer.echo(token)


@gateway_app.command("revoke")
def token_revoke(agent: str) -> None:
    """Revoke every gateway token of an agent (its next call is refused)."""
    from nightshift.bootstrap import build_container
    from nightshift.services.gateway import GatewayService

    c = build_container(Settings())
    try:
        count = GatewayService(c.db, c.audit, c.kill_switch).revoke_tokens(agent, _local_operator())
    except ServiceError as exc:
        fail(str(exc), code=EXIT_API)
    finally:
        c.db.dispose()
    out.print(f"revoked {count} gateway token(s) of {agent}")
