"""A worker exit the database refused is stored once the database takes writes again.

A real `nightshift up` on a real PostgreSQL database. While a worker runs, the
database is made read-only by the server (``default_transaction_read_only``,
every session reconnected) and the worker is killed: the control plane cannot
record the exit. When the database is writable again, the kept exit is retried
and the investigation ends ``failed`` with the executor's reason, instead of
staying ``running`` with no reason.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.support.postgres import PostgresServer
from tests.support.server import TEMPLATE_WITH_FIRST_UNIT, TERMINAL, ControlPlane, worker_pid

pytestmark = pytest.mark.slow
DB = "exit_retry"


def _read_only(pg: PostgresServer, on: bool) -> None:
    with psycopg.connect(pg.admin_dsn, autocommit=True) as conn:
        setting = (
            "SET default_transaction_read_only = on"
            if on
            else "RESET default_transaction_read_only"
        )
        conn.execute(f"ALTER DATABASE {DB} {setting}")
        # Sessions read the setting when they start: end them all.
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (DB,),
        )


def _status(pg: PostgresServer, inv_id: str) -> tuple[str, str]:
    with psycopg.connect(_dsn(pg)) as conn:
        row = conn.execute(
            "SELECT status, reason FROM investigations WHERE id = %s", (inv_id,)
        ).fetchone()
    assert row is not None
    return str(row[0]), str(row[1])


def _dsn(pg: PostgresServer) -> str:
    return pg.admin_dsn.rsplit("/", 1)[0] + f"/{DB}"


def _running(plane: ControlPlane, client: httpx.Client, inv_id: str) -> int:
    pid = worker_pid(plane.database_url, inv_id)
    deadline = time.monotonic() + 60
    while client.get(f"/v1/investigations/{inv_id}").json()["status"] != "running":
        assert time.monotonic() < deadline, plane.log_text()
        time.sleep(0.02)
    os.kill(pid, signal.SIGSTOP)  # frozen mid-run: it reports nothing more
    return pid


def test_an_exit_refused_by_a_read_only_database_is_recorded_when_it_recovers(
    tmp_path: Path, pg_server: PostgresServer
) -> None:
    plane = ControlPlane(
        tmp_path, pg_server.create_database(DB), env_overrides=dict(TEMPLATE_WITH_FIRST_UNIT)
    )
    plane.provision()
    plane.start()
    try:
        with plane.client() as client:
            inv = plane.submit(client, scenario="two-am-cascade", title="2 AM")
            pid = _running(plane, client, inv["id"])
            _read_only(pg_server, True)
            os.kill(pid, signal.SIGKILL)
            deadline = time.monotonic() + 30
            while "could not record the exit" not in plane.log_text():
                assert time.monotonic() < deadline, plane.log_text()
                time.sleep(0.1)
            assert _status(pg_server, inv["id"])[0] == "running"
            _read_only(pg_server, False)
            done = plane.wait_for(client, inv["id"], TERMINAL, timeout=60)
            assert done["status"] == "failed", done
            assert done["reason"] == "worker killed by signal SIGKILL"
            assert done["resources"]["cpu_seconds"] > 0
    finally:
        _read_only(pg_server, False)
        plane.stop()
