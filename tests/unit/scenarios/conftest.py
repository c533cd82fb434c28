"""Shared helpers for the simulated-world tests."""

from __future__ import annotations

import pytest

from nightshift.scenarios import SimulatedWorld


@pytest.fixture
def cascade() -> SimulatedWorld:
    return SimulatedWorld("two-am-cascade")


@pytest.fixture
def ledger() -> SimulatedWorld:
    return SimulatedWorld("ledger-worker-restarts")
