"""Governance gateway: added latency per allowed call and sustained calls per second."""
