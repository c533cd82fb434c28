from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.postgres import PostgresServer
from tests.support.server import ControlPlane

_names = itertools.count()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'nightshift.db'}"
    server: PostgresServer = request.getfixturevalue("pg_server")
    return server.create_database(f"cp_{next(_names)}")


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
