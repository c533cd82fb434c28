from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.control_plane import World, make_world
from tests.support.postgres import PostgresServer

_names = itertools.count()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'workflow.db'}"
    server: PostgresServer = request.getfixturevalue("pg_server")
    return server.create_database(f"workflow_{next(_names)}")


@pytest.fixture
def world(tmp_path: Path, database_url: str) -> Iterator[World]:
    w = make_world(tmp_path, database_url, notify_async=False)
    yield w
    w.container.db.dispose()
