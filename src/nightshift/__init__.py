"""Nightshift: governed autonomous diagnostic agents for Kubernetes."""

__version__ = "0.1.0"
