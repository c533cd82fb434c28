"""The built-in deterministic offline reasoner (no network, no API key)."""
