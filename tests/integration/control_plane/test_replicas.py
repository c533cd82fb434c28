"""Two control-plane processes on one PostgreSQL (issue 21, "several replicas"):
both dispatch, each investigation runs once, a stop asked on one replica reaches
a unit on the other, and when one replica is SIGKILLed mid-run the survivor
takes the leader lease and brings every investigation to a recorded end."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from tests.support.postgres import PostgresServer
from tests.support.server import TEMPLATE_WITH_FIRST_UNIT, TERMINAL, ControlPlane

pytestmark = pytest.mark.slow
SCENARIO = "cart-errors-after-release"
LEASE_SECONDS = 5  # short keeps the test bounded; a stall of a loaded CI box stays below it
DONE_OK = {"succeeded", "escalated"}


@pytest.fixture
def pair(pg_server: PostgresServer, tmp_path: Path) -> Iterator[tuple[ControlPlane, ControlPlane]]:
    url = pg_server.create_database(f"replicas_{os.getpid()}_{time.monotonic_ns()}")
    planes = []
    for name in ("alpha", "beta"):
        (tmp_path / name).mkdir()
        planes.append(
            ControlPlane(
                tmp_path / name,
                url,
                env_overrides={
                    "NIGHTSHIFT_REPLICA_ID": name,
                    "NIGHTSHIFT_LEASE_SECONDS": str(LEASE_SECONDS),
                    # Global caps, counted over both replicas: some work stays queued.
                    "NIGHTSHIFT_MAX_RUNNING": "3",
                    "NIGHTSHIFT_MAX_RUNNING_PER_AGENT": "3",
                    **TEMPLATE_WITH_FIRST_UNIT,  # the tests freeze workers right after dispatch
                },
            )
        )
    alpha, beta = planes
    alpha.provision()
    beta.token = alpha.token  # one database: one admin, one token
    for plane in planes:
        plane.start()
    yield alpha, beta
    for plane in planes:
        plane.stop()


def _pg(url: str) -> psycopg.Connection[Any]:
    return psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)


def _leader(url: str) -> tuple[str, int] | None:
    with _pg(url) as conn:
        row = conn.execute(
            "SELECT holder, epoch FROM control_leases"
            " WHERE name = 'leader' AND expires_at > clock_timestamp()"
        ).fetchone()
    return (str(row[0]), int(row[1])) if row else None


def _rows(url: str, ids: list[str]) -> dict[str, dict[str, Any]]:
    with _pg(url) as conn:
        got = conn.execute(
            "SELECT id, status, reason, replica, attempts FROM investigations WHERE id = ANY(%s)",
            (ids,),
        ).fetchall()
    return {r[0]: {"status": r[1], "reason": r[2], "replica": r[3], "attempts": r[4]} for r in got}


def _statuses(url: str, inv_id: str) -> list[str]:
    """The investigation's recorded status history, in order."""
    with _pg(url) as conn:
        got = conn.execute(
            "SELECT data FROM investigation_events WHERE investigation_id = %s"
            " AND kind = 'status' ORDER BY seq",
            (inv_id,),
        ).fetchall()
    return [str(r[0]["status"]) for r in got]


def _wait_all(url: str, ids: list[str], timeout: float) -> dict[str, dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        rows = _rows(url, ids)
        if all(r["status"] in TERMINAL for r in rows.values()) or time.monotonic() > deadline:
            return rows
        time.sleep(0.2)


def _ready(plane: ControlPlane) -> dict[str, Any]:
    body = httpx.get(f"{plane.url}/readyz", timeout=5).json()
    return {"replica": body["replica"], "leader": body["leader"]}


def _submit(plane: ControlPlane, client: httpx.Client) -> str:
    return str(plane.submit(client, scenario=SCENARIO, title="cart errors")["id"])


def _worker_logs(plane: ControlPlane) -> set[str]:
    return {p.stem for p in (plane.data_dir / "logs").glob("*.log")}


def _pid_of(url: str, inv_id: str) -> int | None:
    with _pg(url) as conn:
        row = conn.execute(
            "SELECT worker_ref FROM investigations WHERE id = %s AND status = 'running'",
            (inv_id,),
        ).fetchone()
    return int(row[0].split(":")[1]) if row and row[0] else None


def _running_pid(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in {"Z", "X"}


def test_two_replicas_run_each_investigation_exactly_once_and_survive_a_sigkill(
    pair: tuple[ControlPlane, ControlPlane],
) -> None:
    alpha, beta = pair
    url = alpha.database_url
    started = time.monotonic()
    with alpha.client() as ca, beta.client() as cb:
        # Both dispatch: submissions alternate between the replicas' APIs.
        first = [_submit(p, c) for _ in range(4) for p, c in ((alpha, ca), (beta, cb))]
        rows = _wait_all(url, first, timeout=45)
        assert {r["status"] for r in rows.values()} <= DONE_OK, rows
        assert all(r["attempts"] == 1 for r in rows.values()), rows
        assert {r["replica"] for r in rows.values()} == {"alpha", "beta"}, rows
        for inv_id in first:
            assert _statuses(url, inv_id).count("dispatched") == 1
        # No duplicate worker: each investigation's unit ran on one replica only.
        assert not _worker_logs(alpha) & _worker_logs(beta)
        assert _worker_logs(alpha) | _worker_logs(beta) >= set(first)

        # Kill the leader mid-run: freeze one of its workers once it reports running,
        # so it certainly has running work when it dies, and leave more queued.
        held = _leader(url)
        assert held is not None
        leader_name, epoch = held
        victim, survivor = (alpha, beta) if leader_name == "alpha" else (beta, alpha)
        assert _ready(victim) == {"replica": leader_name, "leader": True}
        assert _ready(survivor)["leader"] is False  # one leader at a time
        client = ca if victim is alpha else cb
        second = [_submit(victim, client) for _ in range(4)]
        frozen = None
        deadline = time.monotonic() + 30
        while frozen is None and time.monotonic() < deadline:
            rows_now = _rows(url, second)
            for inv_id, row in rows_now.items():
                pid = _pid_of(url, inv_id) if row["replica"] == leader_name else None
                if pid is not None:
                    os.kill(pid, signal.SIGSTOP)
                    frozen = (inv_id, pid)
                    break
            # any replica dispatches: when the survivor took all of them, submit more
            if (
                frozen is None
                and len(second) < 16
                and all(
                    r["replica"] not in (None, leader_name) or r["status"] in TERMINAL
                    for r in rows_now.values()
                )
            ):
                second.append(_submit(victim, client))
            time.sleep(0.02)
        assert frozen is not None, "no worker of the leader was caught running"
        assert _rows(url, [frozen[0]])[frozen[0]]["status"] == "running"
        third = [_submit(victim, client) for _ in range(3)]  # queued when it dies
        victim.kill()
        killed_at = time.monotonic()

    ids = second + third
    rows = _wait_all(url, ids, timeout=45)
    survivor_name = survivor.env_overrides["NIGHTSHIFT_REPLICA_ID"]
    took_over = _leader(url)
    assert took_over is not None and took_over[0] == survivor_name
    assert took_over[1] > epoch  # a new holder is a new epoch (fencing)
    assert _ready(survivor) == {"replica": survivor_name, "leader": True}
    for inv_id, row in rows.items():
        assert row["status"] in TERMINAL, (inv_id, row, survivor.log_text())
        assert row["reason"].strip() or row["status"] in DONE_OK, row
    lost = rows[frozen[0]]
    assert lost["status"] == "failed"
    assert f"replica {leader_name} stopped heartbeating" in lost["reason"]
    assert not _running_pid(frozen[1])  # the orphaned worker was stopped, not left behind
    # What ran on the dead replica was lost with it, and says so; what it had not
    # started ran on the survivor; no investigation ever had two units at once.
    for inv_id in ids:
        row, history = rows[inv_id], _statuses(url, inv_id)
        if row["status"] not in DONE_OK:
            assert row["status"] == "failed", row
            assert f"replica {leader_name} stopped heartbeating" in row["reason"], row
        assert history.count("running") <= history.count("dispatched") <= 2, history
        assert history.count("dispatched") == history.count("queued"), history
    survived = [i for i in ids if rows[i]["replica"] == survivor_name]
    assert survived and all(rows[i]["status"] in DONE_OK for i in survived), rows
    recovered_in = time.monotonic() - killed_at
    assert recovered_in < 45
    assert time.monotonic() - started < 90


def test_a_cancel_on_one_replica_stops_the_unit_running_on_the_other(
    pair: tuple[ControlPlane, ControlPlane],
) -> None:
    alpha, beta = pair
    url = alpha.database_url
    with alpha.client() as ca, beta.client() as cb:
        deadline = time.monotonic() + 30
        caught: tuple[str, int, str] | None = None
        while caught is None and time.monotonic() < deadline:
            inv_id = _submit(alpha, ca)
            for _ in range(300):
                row = _rows(url, [inv_id])[inv_id]
                pid = _pid_of(url, inv_id)
                if pid is not None:
                    os.kill(pid, signal.SIGSTOP)  # hangs: only a stop ends it
                    caught = (inv_id, pid, str(row["replica"]))
                    break
                if row["status"] in TERMINAL:
                    break
                time.sleep(0.02)
        assert caught is not None, "no worker caught running"
        inv_id, pid, owner = caught
        other = cb if owner == "alpha" else ca  # ask the replica that does not run it
        resp = other.post(f"/v1/investigations/{inv_id}/cancel", json={"reason": "wrong alert"})
        assert resp.status_code == 200, resp.text
        stopped_by = time.monotonic() + 10
        while _running_pid(pid) and time.monotonic() < stopped_by:
            time.sleep(0.1)
        assert not _running_pid(pid), f"the unit on {owner} outlived its cancel"
        assert _rows(url, [inv_id])[inv_id]["status"] == "cancelled"


def test_a_follower_on_the_other_replica_sees_the_end_as_it_happens(
    pair: tuple[ControlPlane, ControlPlane],
) -> None:
    """SSE followers wake on LISTEN/NOTIFY: a stream served by the replica that
    does not run the investigation ends with it, not at its next 15 s poll."""
    alpha, beta = pair
    url = alpha.database_url
    with alpha.client() as ca, beta.client() as cb:
        inv_id, pid = "", None
        deadline = time.monotonic() + 30
        while pid is None and time.monotonic() < deadline:
            inv_id = _submit(alpha, ca)
            for _ in range(300):
                pid = _pid_of(url, inv_id)
                if pid is not None:
                    os.kill(pid, signal.SIGSTOP)  # held mid-run while the stream opens
                    break
                if _rows(url, [inv_id])[inv_id]["status"] in TERMINAL:
                    break
                time.sleep(0.02)
        assert pid is not None, "no worker caught running"
        owner = _rows(url, [inv_id])[inv_id]["replica"]
        follower = cb if owner == "alpha" else ca
        kinds: list[str] = []
        with follower.stream("GET", f"/v1/investigations/{inv_id}/events") as stream:
            lines = stream.iter_lines()
            for line in lines:  # the history so far, up to "running"
                if line.startswith("event: "):
                    kinds.append(line[7:])
                if '"status": "running"' in line:
                    break
            os.kill(pid, signal.SIGCONT)
            for line in lines:
                if line.startswith("event: "):
                    kinds.append(line[7:])
            ended = time.time()
    finished = _finished_at(url, inv_id)
    assert kinds[-1] == "status" and "result" in kinds, kinds
    assert ended - finished < 3.0, f"the stream ended {ended - finished:.1f} s after the end"


def _finished_at(url: str, inv_id: str) -> float:
    with _pg(url) as conn:
        row = conn.execute("SELECT finished_at FROM investigations WHERE id = %s", (inv_id,))
        got = row.fetchone()
    assert got is not None and got[0] is not None
    return float(got[0].timestamp())
