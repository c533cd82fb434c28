"""Nightshift as an MCP server: investigations, diagnoses, approvals and the kill
switch for IDE assistants and other agents.

Every tool is a call to the control plane's own HTTP API with the caller's token,
so the server decides exactly as the API does (same services, same roles, same
audit) and holds no authority of its own. Over HTTP the token is the caller's
``Authorization: Bearer`` header, per request; over stdio it is the token the
process was started with (the user's own, like the CLI's).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import httpx
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations

READ = ToolAnnotations(read_only_hint=True, destructive_hint=False, open_world_hint=False)
DECIDE = ToolAnnotations(read_only_hint=False, destructive_hint=False, open_world_hint=False)
WRITE = ToolAnnotations(read_only_hint=False, destructive_hint=True, open_world_hint=True)


class ApiCaller:
    """The control plane at ``api_url``, called with the request's token."""

    def __init__(self, api_url: str, stdio_token: str | None) -> None:
        self._api_url = api_url.rstrip("/")
        self._stdio_token = stdio_token

    def token(self, headers: Mapping[str, str] | None) -> str:
        if headers is not None:  # HTTP: only the caller's own token counts
            auth = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
            scheme, _, token = auth.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise ToolError(
                    "unauthenticated: send Authorization: Bearer <Nightshift API token>"
                )
            return token.strip()
        if not self._stdio_token:
            raise ToolError("unauthenticated: start the server with --token or NIGHTSHIFT_TOKEN")
        return self._stdio_token

    async def __call__(
        self, ctx: Context, method: str, path: str, body: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
    ) -> str:  # fmt: skip
        token = self.token(ctx.headers)
        async with httpx.AsyncClient(
            base_url=self._api_url, headers={"Authorization": f"Bearer {token}"}, timeout=30
        ) as client:
            try:
                resp = await client.request(method, path, json=body, params=params)
            except httpx.HTTPError as exc:
                raise ToolError(f"cannot reach the control plane: {type(exc).__name__}") from None
        if resp.status_code >= 400:
            raise ToolError(f"{resp.status_code}: {_reason(resp)}")
        # the API's own JSON, as text: one shape for every client, an empty list included
        return json.dumps(resp.json(), indent=1, sort_keys=True)


def _reason(resp: httpx.Response) -> str:
    try:
        detail = resp.json().get("detail", resp.text)
    except ValueError:
        return resp.text[:500]
    return str(detail)[:500]


def _clean(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v not in (None, "")}


def build_server(api_url: str, stdio_token: str | None = None) -> MCPServer:
    api = ApiCaller(api_url, stdio_token)
    server = MCPServer("nightshift")

    @server.tool(annotations=WRITE)
    async def investigate(
        ctx: Context, agent: str, title: str = "", scenario: str = "", namespace: str = "",
        priority: int = 2,
    ) -> str:  # fmt: skip
        """Start an investigation: a question or alert summary as title, or a scenario."""
        body = _clean({"agent": agent, "title": title, "scenario": scenario,
                       "namespace": namespace, "priority": priority})  # fmt: skip
        return await api(ctx, "POST", "/v1/investigations", body)

    @server.tool(annotations=READ)
    async def get_investigation(ctx: Context, investigation_id: str) -> str:
        """One investigation: its status, diagnosis (root cause, evidence) and proposals."""
        return await api(ctx, "GET", f"/v1/investigations/{investigation_id}")

    @server.tool(annotations=READ)
    async def list_investigations(ctx: Context, status: str = "") -> str:
        """Recent investigations, optionally of one status."""
        return await api(ctx, "GET", "/v1/investigations", params=_clean({"status": status}))

    @server.tool(annotations=READ)
    async def list_approvals(ctx: Context, status: str = "pending") -> str:
        """Proposed actions awaiting (or past) a human decision."""
        return await api(ctx, "GET", "/v1/approvals", params=_clean({"status": status}))

    @server.tool(annotations=DECIDE)
    async def approve(ctx: Context, proposal_id: str, reason: str = "") -> str:
        """Approve a proposed action (within the caller's role; audited)."""
        return await api(ctx, "POST", f"/v1/approvals/{proposal_id}/approve", {"reason": reason})

    @server.tool(annotations=DECIDE)
    async def reject(ctx: Context, proposal_id: str, reason: str) -> str:
        """Reject a proposed action with a reason (audited)."""
        return await api(ctx, "POST", f"/v1/approvals/{proposal_id}/reject", {"reason": reason})

    @server.tool(annotations=READ)
    async def kill_switch_status(ctx: Context) -> str:
        """Whether the global or any agent's kill switch is engaged."""
        return await api(ctx, "GET", "/v1/kill-switch")

    return server
