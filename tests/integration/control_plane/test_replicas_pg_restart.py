"""PostgreSQL restarting under two control-plane replicas (issue 21, "bad input
and faults"): both reconnect, keep one leader, and every investigation, those
running across the restart and those submitted after it, reaches a recorded end
exactly once."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.control_plane.test_replicas import (
    DONE_OK,
    LEASE_SECONDS,
    SCENARIO,
    _leader,
    _ready,
    _rows,
    _statuses,
    _submit,
    _wait_all,
)
from tests.support import postgres
from tests.support.server import TERMINAL, ControlPlane

pytestmark = pytest.mark.slow


@pytest.fixture
def server() -> Iterator[postgres.PostgresServer]:
    """A server of this test's own: restarting the session's would cut other tests."""
    reason = postgres.available()
    if reason:
        pytest.fail(reason)
    srv = postgres.start()
    yield srv
    postgres.stop(srv)


def test_replicas_reconnect_after_a_postgres_restart_and_lose_nothing(
    server: postgres.PostgresServer, tmp_path: Path
) -> None:
    url = server.create_database("restart")
    planes = []
    for name in ("alpha", "beta"):
        (tmp_path / name).mkdir()
        planes.append(ControlPlane(tmp_path / name, url, env_overrides={
            "NIGHTSHIFT_REPLICA_ID": name,
            "NIGHTSHIFT_LEASE_SECONDS": str(LEASE_SECONDS),
            "NIGHTSHIFT_MAX_RUNNING": "4",
            "NIGHTSHIFT_MAX_RUNNING_PER_AGENT": "4",
        }))  # fmt: skip
    alpha, beta = planes
    alpha.provision()
    beta.token = alpha.token
    try:
        for plane in planes:
            plane.start()
        with alpha.client() as ca, beta.client() as cb:
            # A short deadline bounds what the restart leaves hanging (a worker whose
            # start was never recorded): the owner's deadline sweep ends it.
            before = [
                str(p.submit(c, scenario=SCENARIO, title="cart errors", deadline_seconds=20)["id"])
                for _ in range(3)
                for p, c in ((alpha, ca), (beta, cb))
            ]
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                if any(r["status"] == "running" for r in _rows(url, before).values()):
                    break
                time.sleep(0.02)
            t0 = time.monotonic()
            postgres.restart(server)  # mid-run: every connection of both replicas is cut
            down_s = time.monotonic() - t0
            after = []
            deadline = time.monotonic() + 30
            while len(after) < 4 and time.monotonic() < deadline:
                plane, client = (alpha, ca) if len(after) % 2 == 0 else (beta, cb)
                try:
                    after.append(_submit(plane, client))
                except httpx.HTTPError:  # the pool is reconnecting
                    time.sleep(0.2)
            assert len(after) == 4, "the replicas took no submissions after the restart"
        ids = before + after
        rows = _wait_all(url, ids, timeout=60)
        for inv_id, row in rows.items():
            assert row["status"] in TERMINAL, (inv_id, row, alpha.log_text()[-3000:])
            assert row["status"] in DONE_OK or row["reason"].strip(), row
            history = _statuses(url, inv_id)
            assert history.count("dispatched") == history.count("queued") <= 2, history
        assert all(rows[i]["status"] in DONE_OK for i in after), rows
        assert down_s < LEASE_SECONDS  # shorter than the TTL: nobody is taken for dead
        assert not any("stopped heartbeating" in r["reason"] for r in rows.values()), rows
        held = _leader(url)
        assert held is not None
        assert [_ready(p)["leader"] for p in planes].count(True) == 1
    finally:
        for plane in planes:
            plane.stop()
