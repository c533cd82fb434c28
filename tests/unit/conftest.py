"""The whole unit suite runs without the network (loopback only)."""

from __future__ import annotations

import pytest

from tests.support import network_guard


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    network_guard.install(monkeypatch)
