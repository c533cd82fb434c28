"""An MCP server as an evidence source (kind ``mcp``), over stdio or streamable HTTP.

The server's tools join the agent's toolset as tools of the source's domain, so
they pass the same wrappers as built-in tools (policy, budgets, chain breaker,
redaction, audit, metrics). A tool is read-only only when the operator says so
in ``settings.tools`` or the server annotates it ``readOnlyHint: true``; any
other tool is offered with ``read_only=False``, which policy denies as a write:
an agent changes things only through proposed actions. Annotations are hints
from a server we may not trust, so an operator override always wins and the
default is the safe one.

Each call opens its own session: a worker makes few calls, and a session held
across calls would tie the SDK's task-scoped streams to one task of ours.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from nightshift.agent.tools.protocol import ToolCall, ToolResult, ToolSpec, ToolStatus
from nightshift.sources.config import SourceConfig, SourcesError
from nightshift.sources.context import SourceContext
from nightshift.sources.mcp_client import McpEndpoint, call_tool, list_tools

_MAX_DESCRIPTION = 1_000  # a tool's description is the server's text in our prompt: keep it short
_TOOL_NAME = r"^[A-Za-z0-9_.-]{1,64}$"


class McpSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    transport: Literal["stdio", "http"] | None = None  # default: http with a url, else stdio
    command: tuple[str, ...] = ()  # stdio: the server's argv
    # operator override per tool; wins over the server's annotations
    tools: dict[str, Literal["read", "write"]] = Field(default_factory=dict)
    prefix: str = Field(default="", pattern=r"^[a-z0-9_]{0,24}$")
    discover_timeout_seconds: float = Field(default=15.0, gt=0, le=120)


def classify(name: str, annotations: Any, overrides: Mapping[str, str]) -> bool:
    """True when the tool may be called as a read: the operator said ``read``, or
    (no override) the server annotated it read-only and not destructive."""
    if name in overrides:
        return overrides[name] == "read"
    if annotations is None:
        return False
    return annotations.read_only_hint is True and annotations.destructive_hint is not True


def endpoint_for(
    source: SourceConfig, settings: McpSettings, context: SourceContext
) -> McpEndpoint:
    transport = settings.transport or ("http" if source.url else "stdio")
    credential = dict(context.credential(source))
    if transport == "http":
        if not source.url.startswith(("http://", "https://")):
            raise SourcesError(f"mcp source {source.name!r}: http transport needs an http(s) url")
        headers: dict[str, str] = {}
        if "token" in credential:
            headers["Authorization"] = f"Bearer {credential['token']}"
        return McpEndpoint(url=source.url, headers=headers)
    if not settings.command:
        raise SourcesError(f"mcp source {source.name!r}: stdio transport needs settings.command")
    # a stdio server gets its credential as environment variables (key upper-cased)
    env = {key.upper(): value for key, value in credential.items()}
    return McpEndpoint(command=settings.command, env=env)


def _discover(endpoint: McpEndpoint, timeout: float) -> list[Any]:
    """The server's tools, listed from a thread of our own: factories are called
    synchronously, possibly from inside the worker's running loop."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["tools"] = asyncio.run(asyncio.wait_for(list_tools(endpoint), timeout))
        except BaseException as exc:  # reported to the caller below
            box["error"] = exc

    thread = threading.Thread(target=run, name="mcp-discover", daemon=True)
    thread.start()
    thread.join(timeout + 5)
    if "error" in box:
        exc = box["error"]
        raise SourcesError(f"could not list the server's tools: {type(exc).__name__}: {exc}")
    if "tools" not in box:
        raise SourcesError(f"the server listed no tools within {timeout:g} s")
    tools: list[Any] = box["tools"]
    return tools


def _text(result: Any) -> str:
    parts: list[str] = []
    for block in result.content:
        text = getattr(block, "text", None)
        parts.append(text if isinstance(text, str) else f"[{block.type} content omitted]")
    return "\n".join(parts)


class McpToolset:
    __slots__ = ("_endpoint", "_remote", "_source", "_specs")

    def __init__(self, source: SourceConfig, endpoint: McpEndpoint, tools: Sequence[Any]) -> None:
        settings = McpSettings.model_validate(source.settings)
        self._source = source
        self._endpoint = endpoint
        self._remote: dict[str, str] = {}
        specs: list[ToolSpec] = []
        for tool in tools:
            if not re.match(_TOOL_NAME, tool.name):
                continue  # a name we could not show the model safely
            name = settings.prefix + tool.name
            self._remote[name] = tool.name
            described = (tool.description or "").strip()[:_MAX_DESCRIPTION]
            specs.append(
                ToolSpec(
                    name=name,
                    description=f"{described} (MCP server {source.name!r})".strip(),
                    domain=source.domain,
                    parameters=tool.input_schema or {"type": "object", "properties": {}},
                    read_only=classify(tool.name, tool.annotations, settings.tools),
                )
            )
        self._specs = tuple(specs)

    def specs(self) -> Sequence[ToolSpec]:
        return self._specs

    async def call(self, call: ToolCall) -> ToolResult:
        spec = next((s for s in self._specs if s.name == call.name), None)
        if spec is None:
            return ToolResult(ToolStatus.ERROR, f"unknown tool {call.name!r}", error="unknown")
        if not spec.read_only:
            # policy denies writes before this; a second lock, should the toolset be used bare
            why = f"tool {call.name!r} is not read-only; it can only be proposed"
            return ToolResult(ToolStatus.DENIED, why, error="write_tool_denied")
        result = await call_tool(self._endpoint, self._remote[call.name], dict(call.params))
        text = _text(result)
        data = result.structured_content if isinstance(result.structured_content, dict) else None
        if result.is_error:
            return ToolResult(ToolStatus.ERROR, text, data, error=text[:200] or "tool error")
        return ToolResult(ToolStatus.OK if text else ToolStatus.NO_DATA, text, data)


def build(source: SourceConfig, context: SourceContext) -> McpToolset:
    try:
        settings = McpSettings.model_validate(source.settings)
    except ValidationError as exc:
        raise SourcesError(
            f"mcp source {source.name!r}: settings: {exc.errors()[0]['msg']}"
        ) from None
    endpoint = endpoint_for(source, settings, context)
    tools = _discover(endpoint, settings.discover_timeout_seconds)
    return McpToolset(source, endpoint, tools)
