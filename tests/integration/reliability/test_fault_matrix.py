"""The fault matrix: the control plane SIGKILLs itself at each named point of a
remediation (``NIGHTSHIFT_TEST_CRASH_AT``) on SQLite and on PostgreSQL, and is
started again. In every case the proposal reaches a terminal, recorded state
with a reason and an escalation says what a human must check; no investigation
is left active, no proposal executing or rolling back, no lease active.

Real processes throughout: the server, its workers (offline reasoner,
simulated world), the databases. The simulated world lives in the server's
memory, so after the restart an action is honestly no longer in effect: an
interrupted execution ends ``failed``, an interrupted rollback ``rolled_back``.
(``remediation.after_execute`` on SQLite is tests/integration/workflow/
test_interrupted_execution.py; the worker and storage faults are in
tests/integration/control_plane/test_real_processes.py and
tests/integration/storage/.)"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from nightshift.secrets.protocol import LeaseState
from nightshift.store.database import Database
from nightshift.store.tables import ActionProposalRow, CredentialLeaseRow, InvestigationRow
from tests.integration.workflow.test_two_am_as_asked import _ask, _investigate, _provision
from tests.support.postgres import PostgresServer
from tests.support.server import ControlPlane

pytestmark = pytest.mark.slow

ACTIVE_INVESTIGATION = {"queued", "dispatched", "running"}
OPEN_PROPOSAL = {"approved", "executing", "rolling_back"}
LEASE_SECONDS = 3
# point -> (database, what the proposal ends as, a word its escalation uses)
MATRIX = [
    ("remediation.before_execute", "sqlite", "failed", "run again"),
    ("remediation.after_execute", "postgresql", "failed", "run again"),
    ("remediation.mid_rollback", "sqlite", "rolled_back", "rolling back"),
]


def _leftovers(url: str) -> list[str]:
    db = Database(url)
    try:
        with db.read() as s:
            invs = s.scalars(
                select(InvestigationRow.id).where(InvestigationRow.status.in_(ACTIVE_INVESTIGATION))
            ).all()
            props = s.execute(
                select(ActionProposalRow.id, ActionProposalRow.status).where(
                    ActionProposalRow.status.in_(OPEN_PROPOSAL)
                )
            ).all()
            leases = s.scalars(
                select(CredentialLeaseRow.id).where(
                    CredentialLeaseRow.state == LeaseState.ACTIVE.value
                )
            ).all()
    finally:
        db.dispose()
    return (
        [f"investigation {i} active" for i in invs]
        + [f"proposal {p} {st}" for p, st in props]
        + [f"lease {lease} active" for lease in leases]
    )


def _settled(op: httpx.Client, proposal_id: str) -> dict[str, Any]:
    """The proposal once it left executing/rolling back: at start-up on SQLite (one
    replica), within the lease TTL plus a reconcile pass on PostgreSQL."""
    deadline = time.monotonic() + 3 * LEASE_SECONDS + 15
    while True:
        got: dict[str, Any] = op.get(f"/v1/approvals/{proposal_id}").json()
        if got["status"] not in OPEN_PROPOSAL or time.monotonic() > deadline:
            return got
        time.sleep(0.5)


def _crash(op: httpx.Client, point: str, ask: dict[str, Any]) -> None:
    approve = f"/v1/approvals/{ask['id']}/approve"
    if point == "remediation.mid_rollback":
        done = op.post(approve, json={"reason": "as asked"}).json()
        assert done["status"] == "executed", done
        with pytest.raises(httpx.HTTPError):  # the server dies under the rollback
            op.post(f"/v1/approvals/{ask['id']}/rollback", json={"reason": "undo"})
    else:
        with pytest.raises(httpx.HTTPError):  # the server dies under the approval
            op.post(approve, json={"reason": "as asked"})


@pytest.mark.parametrize(("point", "database", "ends", "says"), MATRIX)
def test_a_crash_at_each_point_ends_recorded_with_nothing_left_open(
    tmp_path: Path, request: pytest.FixtureRequest, point: str, database: str, ends: str, says: str
) -> None:
    if database == "postgresql":
        pg: PostgresServer = request.getfixturevalue("pg_server")
        url = pg.create_database(f"fault_{point.split('.')[-1]}")
    else:
        url = f"sqlite:///{tmp_path / 'nightshift.db'}"
    plane = ControlPlane(
        tmp_path,
        url,
        env_overrides={
            "NIGHTSHIFT_ONCALL_CONTACT": "oncall@example.org",
            "NIGHTSHIFT_TEST_CRASH_AT": point,
            # on PostgreSQL the restarted process is a new replica: the dead one's
            # heartbeat must lapse before its execution is known to be nobody's
            "NIGHTSHIFT_LEASE_SECONDS": str(LEASE_SECONDS),
        },
    )
    token = _provision(plane)
    auth = {"Authorization": f"Bearer {token}"}
    plane.start()
    try:
        with httpx.Client(base_url=plane.url, headers=auth, timeout=30) as op:
            ask = _ask(op, _investigate(plane, op))
            _crash(op, point, ask)
        assert plane.proc is not None
        assert plane.proc.wait(20) == -9  # really killed, as an OOM kill would end it
        del plane.env_overrides["NIGHTSHIFT_TEST_CRASH_AT"]
        plane.start()
        with httpx.Client(base_url=plane.url, headers=auth, timeout=30) as op:
            done = _settled(op, ask["id"])
            assert done["status"] == ends, done
            [esc] = [e for e in op.get("/v1/escalations").json() if e["proposal_id"] == ask["id"]]
            assert esc["kind"] == "remediation_interrupted" and says in esc["summary"], esc
        assert _leftovers(url) == []
        print(f"\nfault matrix: {point} on {database}: {ends}, escalated, nothing left open")
    finally:
        plane.stop()
