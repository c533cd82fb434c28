"""Executing approved remediation actions behind a protocol (simulated world, fake;
the Kubernetes executor implements the same protocol later)."""
