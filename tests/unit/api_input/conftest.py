from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from nightshift.api.app import create_app
from tests.support.control_plane import World, make_world


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = make_world(tmp_path, queue_capacity=5, max_running=2, max_running_per_agent=1)
    yield w
    w.container.db.dispose()


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    with TestClient(create_app(world.container, background=False)) as c:  # type: ignore[arg-type]
        yield c
