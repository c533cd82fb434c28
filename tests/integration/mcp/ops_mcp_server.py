"""A small MCP server written with the official SDK, run as a real process by the
tests: one read-only tool, one destructive tool, one tool with no annotations.

    python ops_mcp_server.py stdio [MARKS_FILE]
    python ops_mcp_server.py http PORT
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations

server = MCPServer("ops-test-server")
# every destructive call leaves a mark the test can look for
MARKS = Path(os.environ.get("OPS_MARKS", "/dev/null"))
if len(sys.argv) > 2 and sys.argv[1] == "stdio":
    MARKS = Path(sys.argv[2])


@server.tool(annotations=ToolAnnotations(read_only_hint=True, destructive_hint=False))
def service_status(service: str) -> str:
    """Report whether a service is healthy."""
    token = os.environ.get("TOKEN", "")
    who = "with credential" if token else "without credential"
    return f"service {service}: 3/3 replicas ready, p99 latency 420ms ({who})"


@server.tool(annotations=ToolAnnotations(read_only_hint=False, destructive_hint=True))
def restart_service(service: str) -> str:
    """Restart a service (destructive)."""
    with MARKS.open("a", encoding="utf-8") as marks:
        marks.write(f"restarted {service}\n")
    return f"restarted {service}"


@server.tool()
def annotate_incident(note: str) -> str:
    """Attach a note to the incident (no annotations given)."""
    with MARKS.open("a", encoding="utf-8") as marks:
        marks.write(f"note {note}\n")
    return "noted"


if __name__ == "__main__":
    if sys.argv[1] == "stdio":
        server.run("stdio")
    else:
        server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[2]))
