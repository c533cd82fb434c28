"""``nightshift mcp serve``: Nightshift as an MCP server (stdio or streamable HTTP)."""

from __future__ import annotations

from typing import Annotated

import typer

from nightshift.cli.client import resolve_token
from nightshift.settings import Settings

mcp_app = typer.Typer(help="Nightshift over the Model Context Protocol", no_args_is_help=True)


@mcp_app.command("serve")
def serve(
    transport: Annotated[str, typer.Option(help="stdio | http")] = "stdio",
    host: Annotated[str, typer.Option(help="http: address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="http: port (path /mcp)")] = 8765,
    api: Annotated[
        str | None, typer.Option("--api", envvar="NIGHTSHIFT_API_URL", help="control-plane URL")
    ] = None,
    token: Annotated[
        str | None,
        typer.Option("--token", envvar="NIGHTSHIFT_TOKEN", help="stdio: the API token to act as"),
    ] = None,
) -> None:
    """Serve investigations, diagnoses, approvals and the kill switch over MCP; every
    call goes to the API with the caller's token (HTTP: its Bearer header)."""
    from nightshift.mcp.server import build_server

    cfg = Settings()
    url = api or cfg.public_url
    if transport == "stdio":
        build_server(url, resolve_token(cfg, token)).run("stdio")
    elif transport == "http":
        # over HTTP each request carries its own token; none is held by the server
        build_server(url).run("streamable-http", host=host, port=port)
    else:
        raise typer.BadParameter("use stdio or http", param_hint="--transport")
