"""A worker frozen with SIGSTOP and then cancelled: it cannot run its own SIGTERM
handler, so the executor's SIGKILL ends it, and the investigation is recorded
cancelled with the worker's resource usage and its temp dir removed. Real
control plane and worker processes on SQLite."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from nightshift.store.database import Database
from nightshift.store.tables import InvestigationRow
from tests.support.server import TEMPLATE_WITH_FIRST_UNIT, TERMINAL, ControlPlane, worker_pid

pytestmark = pytest.mark.slow


def _row(url: str, inv_id: str) -> InvestigationRow:
    db = Database(url)
    try:
        with db.read() as s:
            row = s.scalar(select(InvestigationRow).where(InvestigationRow.id == inv_id))
            assert row is not None
            return row
    finally:
        db.dispose()


def test_a_sigstopped_worker_cancelled_is_killed_and_its_usage_recorded(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'nightshift.db'}"
    plane = ControlPlane(tmp_path, url, env_overrides=dict(TEMPLATE_WITH_FIRST_UNIT))
    plane.provision()
    plane.start()
    try:
        with plane.client() as client:
            inv = plane.submit(client, scenario="two-am-cascade", title="frozen worker")
            pid = worker_pid(url, inv["id"])
            workdir = Path(os.readlink(f"/proc/{pid}/cwd"))
            os.kill(pid, signal.SIGSTOP)
            cancelled = client.post(f"/v1/investigations/{inv['id']}/cancel", json={})
            assert cancelled.status_code == 200, cancelled.text
            done = plane.wait_for(client, inv["id"], TERMINAL, timeout=60)
            assert done["status"] == "cancelled"
            resources = None
            deadline = time.monotonic() + 30  # the SIGKILL comes after the TERM grace
            while resources is None and time.monotonic() < deadline:
                resources = _row(url, inv["id"]).resources
                time.sleep(0.2)
            assert resources is not None, "the cancelled worker's usage was never recorded"
            assert resources["wall_seconds"] > 0
            assert not workdir.exists()
            with pytest.raises(ProcessLookupError):
                os.kill(pid, 0)
    except httpx.HTTPError:
        raise
    finally:
        plane.stop()
