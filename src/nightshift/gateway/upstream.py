"""The MCP servers behind the gateway: the ``mcp`` sources of the sources file.

Their tools are discovered once at start and classified exactly as for an
evidence source (``sources.mcp_source``): an operator override, else the
server's annotations, else not read-only. Calls go through one long-lived
session per server (``connection.py``) and carry the chain onwards in
``_meta`` ``nightshift/chain``: per call, whatever the transport.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from nightshift.agent.tools.protocol import ToolSpec
from nightshift.gateway.connection import UpstreamConnection
from nightshift.sources.config import SourceConfig, SourceKind, SourcesError, SourcesFile
from nightshift.sources.context import SourceContext
from nightshift.sources.mcp_client import McpEndpoint, list_tools
from nightshift.sources.mcp_source import McpSettings, classify, endpoint_for

CHAIN_META = "nightshift/chain"
_TOOL_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


@dataclass(frozen=True, slots=True)
class UpstreamTool:
    """One tool of one upstream server, as the gateway offers and judges it."""

    spec: ToolSpec  # the offered name, the source's domain, read-only or not
    remote: str  # the tool's name on its server
    source: str
    connection: UpstreamConnection
    timeout_seconds: float
    tool: Any  # the server's own Tool (title, description, annotations)


def _endpoint(source: SourceConfig) -> McpEndpoint:
    settings = McpSettings.model_validate(source.settings)
    # No investigation, no lease: an upstream's credential comes with its declaration.
    return endpoint_for(
        source, settings, SourceContext(investigation_id="", namespaces=frozenset())
    )


async def discover(sources: SourcesFile) -> dict[str, UpstreamTool]:
    """Every tool of every ``mcp`` source, by offered name (prefix + remote name)."""
    found: dict[str, UpstreamTool] = {}
    for source in sources.sources:
        if source.kind is not SourceKind.MCP:
            continue
        settings = McpSettings.model_validate(source.settings)
        endpoint = _endpoint(source)
        connection = UpstreamConnection(endpoint, source.name)
        try:
            tools = await asyncio.wait_for(list_tools(endpoint), settings.discover_timeout_seconds)
        except Exception as exc:  # a broken upstream stops the start with its name
            raise SourcesError(
                f"mcp source {source.name!r}: could not list tools: {type(exc).__name__}: {exc}"
            ) from None
        for tool in tools:
            if not _TOOL_NAME.match(tool.name):
                continue
            name = settings.prefix + tool.name
            if name in found:
                raise SourcesError(f"tool {name!r} is offered by two sources; set a prefix")
            found[name] = UpstreamTool(
                spec=ToolSpec(
                    name=name,
                    description=(tool.description or "").strip()[:1000],
                    domain=source.domain,
                    parameters=tool.input_schema or {"type": "object", "properties": {}},
                    read_only=classify(tool.name, tool.annotations, settings.tools),
                ),
                remote=tool.name,
                source=source.name,
                connection=connection,
                timeout_seconds=source.timeout_seconds,
                tool=tool,
            )
    return found


async def forward(tool: UpstreamTool, arguments: Mapping[str, Any], chain_header: str) -> Any:
    """Call the tool on its server, the chain riding along; the server's result."""
    meta = {CHAIN_META: chain_header}
    return await tool.connection.call(tool.remote, dict(arguments), meta, tool.timeout_seconds)


async def close(tools: Mapping[str, UpstreamTool]) -> None:
    for connection in {id(t.connection): t.connection for t in tools.values()}.values():
        await connection.close()
