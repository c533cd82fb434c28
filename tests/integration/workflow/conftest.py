from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.control_plane import World, make_world
from tests.support.postgres import BACKENDS, database_for


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return database_for(request, tmp_path / "workflow.db", "workflow")


@pytest.fixture
def world(tmp_path: Path, database_url: str) -> Iterator[World]:
    w = make_world(tmp_path, database_url, notify_async=False)
    yield w
    w.container.db.dispose()
