from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.postgres import BACKENDS, database_for
from tests.support.server import ControlPlane


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return database_for(request, tmp_path / "nightshift.db", "cp")


@pytest.fixture
def make_plane(tmp_path: Path, database_url: str) -> Iterator[object]:
    planes: list[ControlPlane] = []

    def make(**env: str) -> ControlPlane:
        plane = ControlPlane(tmp_path, database_url, env_overrides=env)
        plane.provision()
        planes.append(plane)
        return plane

    yield make
    for plane in planes:
        plane.stop()
