"""Storage that refuses writes is an outage to wait out, not a bug: the API
answers 503 with Retry-After and a clear message, reads keep working, and
/readyz reports the database unwritable. Real storage in every case: a real
SQLite file on a filesystem that is really full, a SQLite file opened
read-only by the engine itself (``mode=ro``), and a PostgreSQL database set
read-only by the server."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient

from nightshift.api.app import create_app
from nightshift.bootstrap import build_container
from tests.support.control_plane import World, make_world
from tests.support.postgres import PostgresServer

SUBMIT = {"agent": "triage", "scenario": "two-am-cascade"}


def _refused(client: TestClient, world: World, problem: str) -> None:
    resp = client.post("/v1/investigations", json=SUBMIT, headers=world.auth("operator"))
    assert resp.status_code == 503, resp.text
    assert int(resp.headers["retry-after"]) > 0
    assert resp.json()["error"] == "storage_unavailable"
    assert problem in resp.json()["message"]
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["database"] is True  # it answers ...
    assert ready.json()["database_writable"] is False  # ... but takes no writes
    assert ready.json()["problem"] == problem
    # Reads still work.
    assert client.get("/v1/agents", headers=world.auth("viewer")).status_code == 200


def test_a_full_disk_is_a_503_and_readiness_goes_red_until_space_returns(
    small_disk: Path,
) -> None:
    data = small_disk / "data"
    data.mkdir()
    world = make_world(data, database_url=f"sqlite:///{data / 'nightshift.db'}")
    world.container.db.failure_memory_seconds = 0.5
    world.container.db.probe_seconds = 0.0
    filler = small_disk / "filler"
    try:
        with TestClient(create_app(world.container, background=False)) as client:  # type: ignore[arg-type]
            assert client.get("/readyz").status_code == 200
            subprocess.run(
                ["dd", "if=/dev/zero", f"of={filler}", "bs=4k"], capture_output=True, check=False
            )
            _refused(client, world, "the database's disk is full")
            filler.unlink()
            resp = client.post("/v1/investigations", json=SUBMIT, headers=world.auth("operator"))
            assert resp.status_code == 201, resp.text
            deadline = time.monotonic() + 10
            while client.get("/readyz").status_code != 200:
                assert time.monotonic() < deadline, client.get("/readyz").json()
                time.sleep(0.1)
    finally:
        world.container.db.dispose()


def test_a_read_only_sqlite_database_is_a_503(tmp_path: Path) -> None:
    world = make_world(tmp_path, database_url=f"sqlite:///{tmp_path / 'nightshift.db'}")
    world.container.db.dispose()
    url = f"sqlite:///file:{tmp_path / 'nightshift.db'}?mode=ro&uri=true"
    read_only = build_container(world.container.settings.model_copy(update={"database_url": url}))
    try:
        with TestClient(create_app(read_only, background=False)) as client:  # type: ignore[arg-type]
            _refused(client, world, "the database is read-only")
    finally:
        read_only.db.dispose()


@pytest.fixture
def pg_world(tmp_path: Path, pg_server: PostgresServer) -> Iterator[tuple[World, str]]:
    url = pg_server.create_database("storage_read_only")
    world = make_world(tmp_path, database_url=url)
    yield world, url
    world.container.db.dispose()


def test_a_read_only_postgresql_database_is_a_503(
    pg_world: tuple[World, str], pg_server: PostgresServer
) -> None:
    world, _ = pg_world
    with psycopg.connect(pg_server.admin_dsn, autocommit=True) as conn:
        conn.execute("ALTER DATABASE storage_read_only SET default_transaction_read_only = on")
    world.container.db.engine.dispose()  # new sessions pick the setting up
    with TestClient(create_app(world.container, background=False)) as client:  # type: ignore[arg-type]
        _refused(client, world, "the database is read-only")
