"""The governance gateway: an MCP proxy that makes a third-party agent a governed identity."""
