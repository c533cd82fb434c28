"""Nightshift spoken over the Model Context Protocol (official ``mcp`` SDK)."""
