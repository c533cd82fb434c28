"""Pluggable notifiers for escalations (webhook, fake)."""
