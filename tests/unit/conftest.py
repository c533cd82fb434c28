"""The whole unit suite runs without the network (loopback only).

``world`` is a control plane in this process with small capacity limits (a
package that needs other limits or settings defines its own); ``client`` is a
TestClient on the API and console of whichever ``world`` the test gets;
``notifier`` records what escalations would send.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from nightshift.api.app import create_app
from nightshift.notifications.fake import FakeNotifier
from tests.support import network_guard
from tests.support.control_plane import World, make_world


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    network_guard.install(monkeypatch)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = make_world(tmp_path, queue_capacity=5, max_running=2, max_running_per_agent=1)
    yield w
    w.container.db.dispose()


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    with TestClient(create_app(world.container, background=False)) as c:  # type: ignore[arg-type]
        yield c


@pytest.fixture
def notifier(world: World) -> FakeNotifier:
    fake = FakeNotifier()
    world.container.escalations.add_notifier(fake)
    return fake
