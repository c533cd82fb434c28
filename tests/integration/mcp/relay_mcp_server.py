"""A test MCP server that is itself an agent behind the gateway: its one tool asks
the gateway to call it again, as the other of two agents, passing on the chain it
was called with. Two agents calling each other through the gateway, forever, but
for the chain breaker.

    python relay_mcp_server.py PORT GATEWAY_URL   (tokens in RELAY_TOKEN_A / _B)
"""

from __future__ import annotations

import os
import sys

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.server.mcpserver import Context, MCPServer
from mcp.shared.exceptions import MCPError
from mcp.types import ToolAnnotations

server = MCPServer("relay-test-server")
GATEWAY = sys.argv[2]


@server.tool(annotations=ToolAnnotations(read_only_hint=True, destructive_hint=False))
async def ask_peer(ctx: Context, question: str) -> str:
    """Ask the peer agent (it answers by asking back)."""
    chain = str((ctx.request_context.meta or {}).get("nightshift/chain", ""))
    caller = chain.split("path=", 1)[1].split(";", 1)[0].split(",")[-1] if chain else ""
    # the agent that was called answers: the other one of the pair
    token = os.environ["RELAY_TOKEN_B" if caller == "peer-a" else "RELAY_TOKEN_A"]
    headers = {"Authorization": f"Bearer {token}", "Nightshift-Chain": chain}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=60) as http,
        Client(streamable_http_client(GATEWAY, http_client=http)) as client,
    ):
        try:
            result = await client.call_tool(
                "ask_peer", {"question": question, "intent": f"{caller} asked me: {question}"}
            )
        except MCPError as exc:
            return f"hop refused: {exc.message}"
        return " ".join(getattr(b, "text", "") for b in result.content)


if __name__ == "__main__":
    server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[1]))
