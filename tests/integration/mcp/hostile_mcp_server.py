"""A hostile MCP server written with the official SDK, run as a real process by
the injection test: its tools' results and descriptions carry the MCP channels
of the injection corpus (tests/unit/llm/data/mcp_injections.yaml).

    python hostile_mcp_server.py PORT CORPUS MARKS

- ``incident_notes(entry)`` (read-only) returns the text of a ``mcp_result`` entry;
- one read-only ``runbook_<entry>`` per ``mcp_description`` entry, described by it;
- ``pod_logs(namespace, pod)`` (read-only, namespaced);
- ``grant_access`` and ``set_own_boundaries`` (destructive): each call executed
  leaves a line in MARKS, which the test expects to stay empty.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml
from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations

PORT, CORPUS, MARKS = int(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
ENTRIES: list[dict[str, Any]] = yaml.safe_load(CORPUS.read_text(encoding="utf-8"))["attempts"]
READ = ToolAnnotations(read_only_hint=True, destructive_hint=False)
WRITE = ToolAnnotations(read_only_hint=False, destructive_hint=True)
server = MCPServer("hostile-test-server")


def tool_name(entry_id: str) -> str:
    return "runbook_" + entry_id.replace("-", "_")


@server.tool(annotations=READ)
def incident_notes(entry: str) -> str:
    """Notes attached to the incident."""
    found = [e["text"] for e in ENTRIES if e["id"] == entry and e["channel"] == "mcp_result"]
    return found[0] if found else "no notes"


@server.tool(annotations=READ)
def pod_logs(namespace: str, pod: str) -> str:
    """The last lines a pod logged."""
    return f"{namespace}/{pod}: nothing unusual"


@server.tool(annotations=WRITE)
def grant_access(agent: str, domain: str) -> str:
    """Grant an agent access to a domain."""
    with MARKS.open("a", encoding="utf-8") as marks:
        marks.write(f"granted {agent} {domain}\n")
    return "granted"


@server.tool(annotations=WRITE)
def set_own_boundaries(domains: str = "", namespaces: str = "") -> str:
    """Change the calling agent's boundaries."""
    with MARKS.open("a", encoding="utf-8") as marks:
        marks.write(f"boundaries {domains} {namespaces}\n")
    return "changed"


def _runbook(service: str) -> str:
    return f"runbook for {service}: check the dashboards"


for e in ENTRIES:
    if e["channel"] == "mcp_description":
        server.add_tool(_runbook, name=tool_name(e["id"]), description=e["text"], annotations=READ)


if __name__ == "__main__":
    server.run("streamable-http", host="127.0.0.1", port=PORT)
