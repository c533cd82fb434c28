"""SIGKILL of the control plane mid-execution: the proposal is settled at the next start.

Real processes (SQLite, local executor, offline reasoner, simulated world). The
control plane kills itself with SIGKILL right after the approved action ran and
before the outcome was stored (``NIGHTSHIFT_TEST_CRASH_AT``): the proposal is
left ``executing`` by a really dead process. The restarted control plane reads
the target's state, ends the proposal with that reason and escalates what a
human must check. The simulated world lives in the control plane's memory, so
the action's effect died with it: the honest answer is ``failed``.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from nightshift.store.database import Database
from nightshift.store.tables import ActionProposalRow
from tests.integration.workflow.test_two_am_as_asked import _ask, _investigate, _provision
from tests.support.server import ControlPlane

pytestmark = pytest.mark.slow


def _status_in_db(plane: ControlPlane, proposal_id: str) -> str:
    db = Database(plane.database_url)
    try:
        with db.read() as s:
            row = s.get(ActionProposalRow, proposal_id)
            assert row is not None
            return row.status
    finally:
        db.dispose()


def test_a_sigkill_mid_execution_is_settled_from_the_target_and_escalated(
    tmp_path: Path,
) -> None:
    plane = ControlPlane(
        tmp_path,
        f"sqlite:///{tmp_path / 'nightshift.db'}",
        env_overrides={
            "NIGHTSHIFT_ONCALL_CONTACT": "oncall@example.org",
            "NIGHTSHIFT_TEST_CRASH_AT": "remediation.after_execute",
        },
    )
    token = _provision(plane)
    auth = {"Authorization": f"Bearer {token}"}
    plane.start()
    try:
        with httpx.Client(base_url=plane.url, headers=auth, timeout=30) as op:
            ask = _ask(op, _investigate(plane, op))
            with pytest.raises(httpx.HTTPError):  # the server dies under the request
                op.post(f"/v1/approvals/{ask['id']}/approve", json={"reason": "as asked"})
        assert plane.proc is not None
        assert plane.proc.wait(20) == -9  # SIGKILL, as an OOM kill would end it
        assert _status_in_db(plane, ask["id"]) == "executing"

        del plane.env_overrides["NIGHTSHIFT_TEST_CRASH_AT"]
        plane.start()
        with httpx.Client(base_url=plane.url, headers=auth, timeout=30) as op:
            done = op.get(f"/v1/approvals/{ask['id']}").json()
            assert done["status"] == "failed", done
            assert done["executed_at"] is not None
            seen = done["result"]["interrupted"]
            assert seen["effect"] == "not_in_effect"
            assert "restarted from its scenario" in seen["detail"]
            assert "did not take effect" in seen["reason"]
            escalations = op.get("/v1/escalations").json()
            [esc] = [e for e in escalations if e["proposal_id"] == ask["id"]]
            assert esc["kind"] == "remediation_interrupted"
            assert "run again" in esc["summary"]
            # No longer stuck: the decision is final and says so instead of a bare 409.
            again = op.post(f"/v1/approvals/{ask['id']}/approve", json={"reason": "retry"})
            assert again.status_code == 409
            assert "failed" in again.text
    finally:
        plane.stop()
