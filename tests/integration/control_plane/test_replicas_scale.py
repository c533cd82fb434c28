"""Three replicas on one PostgreSQL, 200 investigations, two replicas SIGKILLed mid-run
(issue 21): every investigation reaches one terminal state, none ever has two units, and
every SSE follower on the surviving replica sees its investigation to the end."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.control_plane.test_replicas import (
    DONE_OK,
    LEASE_SECONDS,
    _leader,
    _rows,
    _statuses,
    _submit,
    _wait_all,
)
from tests.support.postgres import PostgresServer
from tests.support.server import TERMINAL, ControlPlane

pytestmark = pytest.mark.slow
INVESTIGATIONS = 200
NAMES = ("alpha", "beta", "gamma")
FOLLOWED = 12  # SSE followers on the replica that survives


@pytest.fixture
def trio(pg_server: PostgresServer, tmp_path: Path) -> Iterator[list[ControlPlane]]:
    url = pg_server.create_database(f"replicas3_{os.getpid()}_{time.monotonic_ns()}")
    planes = []
    for name in NAMES:
        (tmp_path / name).mkdir()
        planes.append(
            ControlPlane(
                tmp_path / name,
                url,
                env_overrides={
                    "NIGHTSHIFT_REPLICA_ID": name,
                    "NIGHTSHIFT_LEASE_SECONDS": str(LEASE_SECONDS),
                    "NIGHTSHIFT_MAX_RUNNING": "6",
                    "NIGHTSHIFT_MAX_RUNNING_PER_AGENT": "6",
                    "NIGHTSHIFT_QUEUE_CAPACITY": str(INVESTIGATIONS + 10),
                },
            )
        )
    planes[0].provision()
    for plane in planes[1:]:
        plane.token = planes[0].token  # one database: one admin, one token
    for plane in planes:
        plane.start()
    yield planes
    for plane in planes:
        plane.stop()


def _follow(plane: ControlPlane, inv_id: str, seen: dict[str, str]) -> None:
    """Read the investigation's stream on ``plane`` until the server ends it; record
    the last status it carried."""
    last = ""
    headers = {"Authorization": f"Bearer {plane.token}"}
    with (
        httpx.Client(base_url=plane.url, headers=headers, timeout=httpx.Timeout(300)) as client,
        client.stream("GET", f"/v1/investigations/{inv_id}/events") as stream,
    ):
        for line in stream.iter_lines():
            if line.startswith("data: ") and '"kind": "status"' in line:
                last = str(json.loads(line[6:])["data"]["status"])
    seen[inv_id] = last


def _done(url: str, ids: list[str]) -> int:
    return sum(r["status"] in TERMINAL for r in _rows(url, ids).values())


def test_three_replicas_200_investigations_two_sigkills_each_ends_exactly_once(
    trio: list[ControlPlane],
) -> None:
    alpha, beta, gamma = trio
    url = alpha.database_url
    clients = [p.client() for p in trio]
    try:
        ids = [_submit(trio[i % 3], clients[i % 3]) for i in range(INVESTIGATIONS)]
    finally:
        for c in clients:
            c.close()
    seen: dict[str, str] = {}
    followers = [
        threading.Thread(target=_follow, args=(gamma, inv_id, seen), daemon=True)
        for inv_id in ids[-FOLLOWED:]  # still queued now: they run while replicas die
    ]
    for t in followers:
        t.start()
    killed: list[str] = []
    for victim, share in ((alpha, 1 / 3), (beta, 2 / 3)):
        deadline = time.monotonic() + 240
        while _done(url, ids) < INVESTIGATIONS * share and time.monotonic() < deadline:
            time.sleep(0.2)
        victim.kill()  # SIGKILL, mid-run: it has work running and more was queued
        killed.append(victim.env_overrides["NIGHTSHIFT_REPLICA_ID"])
    rows = _wait_all(url, ids, timeout=300)
    for t in followers:
        t.join(timeout=60)

    assert all(r["status"] in TERMINAL for r in rows.values()), [
        (i, r) for i, r in rows.items() if r["status"] not in TERMINAL
    ][:5]
    assert _leader(url) is not None and _leader(url)[0] == "gamma"  # type: ignore[index]
    lost: dict[str, Any] = {}
    for inv_id in ids:
        row, history = rows[inv_id], _statuses(url, inv_id)
        # one terminal state, recorded once; never two units at once
        assert sum(s in TERMINAL for s in history) == 1, (inv_id, history)
        assert history.count("running") <= history.count("dispatched"), history
        assert history.count("dispatched") == history.count("queued"), history
        if row["status"] not in DONE_OK:
            assert row["status"] == "failed", row
            assert any(f"replica {k} stopped heartbeating" in row["reason"] for k in killed), row
            lost[inv_id] = row
    assert {r["replica"] for r in rows.values() if r["status"] in DONE_OK} >= {"gamma"}
    assert len(lost) < INVESTIGATIONS // 4, f"{len(lost)} lost with the killed replicas"
    # every follower on the survivor saw its investigation's own end
    assert len(seen) == FOLLOWED, sorted(set(ids[-FOLLOWED:]) - set(seen))
    assert all(seen[i] == rows[i]["status"] for i in seen), (seen, [rows[i] for i in seen])
    ok = INVESTIGATIONS - len(lost)
    print(f"\n3 replicas, {INVESTIGATIONS} investigations, killed {killed}: {ok} ended ok, "
          f"{len(lost)} failed with their replica")  # fmt: skip
