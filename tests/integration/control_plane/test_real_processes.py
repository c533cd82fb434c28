"""End to end with real processes: a control plane, one worker process per
investigation, and the faults the issue names (worker SIGKILL, worker hang,
control-plane SIGKILL mid-run). Runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.support.server import TEMPLATE_WITH_FIRST_UNIT, TERMINAL, ControlPlane, worker_pid

pytestmark = pytest.mark.slow
SCENARIO = "two-am-cascade"
MakePlane = Callable[..., ControlPlane]


def _submit_scenario(plane: ControlPlane, client: httpx.Client, **extra: object) -> str:
    inv = plane.submit(client, scenario=SCENARIO, title="2 AM: alerts across four domains",
                       tier="multi-domain", **extra)  # fmt: skip
    return str(inv["id"])


def test_an_investigation_runs_in_its_own_process_from_queued_to_a_diagnosis(
    make_plane: MakePlane,
) -> None:
    plane = make_plane()
    plane.start()
    with plane.client() as client:
        inv_id = _submit_scenario(plane, client)
        done = plane.wait_for(client, inv_id, TERMINAL, timeout=120)
        assert done["status"] in {"succeeded", "escalated"}, done
        assert done["result"]["root_causes"], done["result"]
        # The executor records the unit's accounting when it has reaped it,
        # a moment after the worker's own result.
        deadline = time.monotonic() + 10
        while done["resources"] is None and time.monotonic() < deadline:
            time.sleep(0.05)
            done = client.get(f"/v1/investigations/{inv_id}").json()
        assert done["resources"]["cpu_seconds"] > 0
        assert done["resources"]["max_rss_mb"] > 0
        events = client.get(f"/v1/investigations/{inv_id}/events?follow=false").text
        for kind in ("event: status", "event: tool.requested", "event: hypothesis.created",
                     "event: result"):  # fmt: skip
            assert kind in events
        log = client.get(f"/v1/investigations/{inv_id}/logs")
        assert log.status_code == 200


def test_sigkill_of_one_worker_fails_only_that_investigation(make_plane: MakePlane) -> None:
    plane = make_plane(NIGHTSHIFT_MAX_RUNNING_PER_AGENT="2", **TEMPLATE_WITH_FIRST_UNIT)
    plane.start()
    with plane.client() as client:
        victim = _submit_scenario(plane, client)
        bystander = _submit_scenario(plane, client)
        os.kill(worker_pid(plane.database_url, victim), signal.SIGKILL)
        dead = plane.wait_for(client, victim, TERMINAL)
        assert dead["status"] == "failed"
        assert "SIGKILL" in dead["reason"] or "killed" in dead["reason"]
        alive = plane.wait_for(client, bystander, TERMINAL, timeout=120)
        assert alive["status"] in {"succeeded", "escalated"}


def test_a_hanging_worker_is_killed_at_its_deadline(make_plane: MakePlane) -> None:
    plane = make_plane(**TEMPLATE_WITH_FIRST_UNIT)
    plane.start()
    with plane.client() as client:
        inv_id = _submit_scenario(plane, client, deadline_seconds=10)
        os.kill(worker_pid(plane.database_url, inv_id), signal.SIGSTOP)  # hangs, for good
        done = plane.wait_for(client, inv_id, TERMINAL, timeout=40)
        assert done["status"] == "deadline_exceeded"
        assert "deadline" in done["reason"]


def _catch_running(plane: ControlPlane, client: httpx.Client) -> tuple[str, int]:
    """Submit and freeze the worker once it has reported running (mid-run)."""
    for _ in range(5):
        inv_id = _submit_scenario(plane, client)
        pid = worker_pid(plane.database_url, inv_id)
        for _ in range(400):
            status = client.get(f"/v1/investigations/{inv_id}").json()["status"]
            if status == "running":
                os.kill(pid, signal.SIGSTOP)
                if client.get(f"/v1/investigations/{inv_id}").json()["status"] == "running":
                    return inv_id, pid
                break
            if status in TERMINAL:
                break
            time.sleep(0.01)
    raise AssertionError("could not catch a worker mid-run")


def test_sigkill_of_the_control_plane_mid_run_loses_nothing(make_plane: MakePlane) -> None:
    plane = make_plane(
        NIGHTSHIFT_MAX_RUNNING="2", NIGHTSHIFT_MAX_RUNNING_PER_AGENT="2", **TEMPLATE_WITH_FIRST_UNIT
    )
    plane.start()
    with plane.client() as client:
        never_started = _submit_scenario(plane, client)
        frozen_early = worker_pid(plane.database_url, never_started)
        os.kill(frozen_early, signal.SIGSTOP)  # before it reports anything
        running, frozen_mid_run = _catch_running(plane, client)
        assert client.get(f"/v1/investigations/{never_started}").json()["status"] == "dispatched"
        queued = [_submit_scenario(plane, client) for _ in range(3)]
    plane.kill()

    plane.start()
    with plane.client() as client:
        lost = plane.wait_for(client, running, TERMINAL)
        assert lost["status"] == "failed"
        assert "lost worker" in lost["reason"]
        for inv_id in [never_started, *queued]:
            done = plane.wait_for(client, inv_id, TERMINAL, timeout=180)
            assert done["status"] in {"succeeded", "escalated"}, done
        history = client.get(f"/v1/investigations/{never_started}/events?follow=false").text
        assert "re-queued after a control-plane restart" in history
    for pid in (frozen_early, frozen_mid_run):
        assert not _running(pid)  # orphaned workers are stopped, not left behind


def _running(pid: int) -> bool:
    """Alive and not a zombie (an orphan's zombie waits for init to reap it)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"
