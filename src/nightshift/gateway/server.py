"""``nightshift gateway``: the MCP server a third-party agent connects to.

It speaks MCP (official SDK, low-level server: the tools are the upstreams',
known only at start) over streamable HTTP or stdio, and hands every
``tools/list`` and ``tools/call`` to ``GatewayCalls``. Over HTTP the agent's
gateway token is its ``Authorization: Bearer`` header on every request, and a
chain arrives as the ``Nightshift-Chain`` header; over stdio the token is the
one the process was started with and a chain arrives in ``_meta``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import anyio
import mcp_types as types
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from nightshift.gateway.calls import CallInput, GatewayCalls, refusal
from nightshift.governance.containment import HEADER_NAME

STDIO_SESSION = "stdio"


def _headers(ctx: ServerRequestContext[Any]) -> Mapping[str, str] | None:
    """The HTTP request's headers (Starlette's, case-insensitive); None on stdio."""
    headers: Mapping[str, str] | None = getattr(ctx.request, "headers", None)
    return headers


def _token(ctx: ServerRequestContext[Any], stdio_token: str | None) -> str:
    headers = _headers(ctx)
    if headers is not None:  # HTTP: only the caller's own token counts
        scheme, _, token = (headers.get("authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise refusal("unauthenticated", "send Authorization: Bearer <gateway token>")
        return token.strip()
    if not stdio_token:
        raise refusal(
            "unauthenticated", "start the gateway with --token or NIGHTSHIFT_GATEWAY_TOKEN"
        )
    return stdio_token


def build_server(calls: GatewayCalls, stdio_token: str | None = None) -> Server[Any]:
    async def on_list_tools(
        ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return types.ListToolsResult(tools=await calls.list_tools(_token(ctx, stdio_token)))

    async def on_call_tool(
        ctx: ServerRequestContext[Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        headers = _headers(ctx)
        meta: Mapping[str, Any] = dict(params.meta or {}) if params.meta else {}
        session = STDIO_SESSION
        chain_header = None
        if headers is not None:
            session = headers.get("mcp-session-id") or f"request-{ctx.request_id}"
            chain_header = headers.get(HEADER_NAME.lower())
        return await calls.call_tool(
            CallInput(
                token=_token(ctx, stdio_token),
                name=params.name,
                arguments=params.arguments or {},
                meta=meta,
                chain_header=chain_header,
                session=session,
            )
        )

    return Server(
        "nightshift-gateway",
        instructions=(
            "Nightshift governance gateway: every call is decided by policy and audited. "
            "Give each call an 'intent' argument saying why. Tools that change things are "
            "recorded as proposals for a human, not executed."
        ),
        on_list_tools=on_list_tools,
        on_call_tool=on_call_tool,
    )


def http_app(calls: GatewayCalls, host: str) -> Starlette:
    """The streamable-HTTP app at ``/mcp``, with the gateway's metrics at ``/metrics``."""

    async def metrics(_: Request) -> Response:
        return Response(generate_latest(calls.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return build_server(calls).streamable_http_app(
        host=host, custom_starlette_routes=[Route("/metrics", metrics)]
    )


def run_stdio(calls: GatewayCalls, token: str) -> None:
    server = build_server(calls, token)

    async def main() -> None:
        try:
            async with stdio_server() as (read, write):
                await server.run(read, write, server.create_initialization_options())
        finally:
            await calls.close()

    anyio.run(main)
