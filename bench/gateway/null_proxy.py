"""The transport floor: an MCP proxy with the gateway's transport and nothing else.

The same SDK low-level server over streamable HTTP and the same long-lived
upstream session (gateway/connection.py) as ``nightshift gateway``, but no
identity, policy, chain, audit or redaction: what any SDK-based proxy in
Python costs before it governs anything.

    python -m bench.gateway.null_proxy PORT UPSTREAM_URL
"""

from __future__ import annotations

import sys
from typing import Any

import mcp_types as types
import uvicorn
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel import Server

from nightshift.gateway.connection import UpstreamConnection
from nightshift.sources.mcp_client import McpEndpoint


def main() -> None:
    port, url = int(sys.argv[1]), sys.argv[2]
    upstream = UpstreamConnection(McpEndpoint(url=url), "upstream")

    async def on_list_tools(
        ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return types.ListToolsResult(tools=[])

    async def on_call_tool(
        ctx: ServerRequestContext[Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        arguments = dict(params.arguments or {})
        arguments.pop("intent", None)
        result = await upstream.call(params.name, arguments, {}, 30.0)
        return types.CallToolResult(
            content=list(result.content),
            structured_content=result.structured_content,
            is_error=bool(result.is_error),
        )

    server: Server[Any] = Server(
        "null-proxy", on_list_tools=on_list_tools, on_call_tool=on_call_tool
    )
    uvicorn.run(server.streamable_http_app(host="127.0.0.1"), host="127.0.0.1", port=port,
                log_level="warning")  # fmt: skip


if __name__ == "__main__":
    main()
