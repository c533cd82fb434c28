"""The gateway's refusals: MCP errors that carry a stable reason code."""

from __future__ import annotations

from typing import Any

from mcp.shared.exceptions import MCPError

REFUSED = -32001  # JSON-RPC server-defined range: the gateway refused the call


def refusal(reason: str, message: str, **data: Any) -> MCPError:
    return MCPError(REFUSED, f"{reason}: {message}", {"reason": reason, **data})
