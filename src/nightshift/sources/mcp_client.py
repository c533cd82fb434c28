"""The one place that speaks MCP as a client (official ``mcp`` SDK): list a
server's tools and call one, over stdio or streamable HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx2
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client


@dataclass(frozen=True, slots=True)
class McpEndpoint:
    """Where a server is: a URL (streamable HTTP) or a command (stdio)."""

    url: str = ""
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    command: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict, repr=False)


@asynccontextmanager
async def _client(endpoint: McpEndpoint) -> AsyncIterator[Client]:
    if endpoint.url:
        async with httpx2.AsyncClient(headers=dict(endpoint.headers)) as http:
            transport = streamable_http_client(endpoint.url, http_client=http)
            async with Client(transport) as client:
                yield client
        return
    params = StdioServerParameters(
        command=endpoint.command[0], args=list(endpoint.command[1:]), env=dict(endpoint.env)
    )
    async with Client(params) as client:
        yield client


def connect(endpoint: McpEndpoint) -> AbstractAsyncContextManager[Client]:
    """A session the caller holds open across calls (the gateway's upstreams)."""
    return _client(endpoint)


async def list_tools(endpoint: McpEndpoint) -> list[Any]:
    async with _client(endpoint) as client:
        tools: list[Any] = []
        cursor: str | None = None
        while True:
            page = await client.list_tools(cursor=cursor)
            tools.extend(page.tools)
            cursor = page.next_cursor
            if not cursor:
                return tools


async def call_tool(endpoint: McpEndpoint, name: str, arguments: dict[str, Any]) -> Any:
    async with _client(endpoint) as client:
        return await client.call_tool(name, arguments)
