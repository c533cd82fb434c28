"""Held gateway calls whose gateway is gone end, recorded, instead of waiting forever."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from nightshift.governance.decisions import Decision, Outcome, ReasonCode
from nightshift.services.gateway_holds import CLAIM_GRACE, FORWARD_GRACE
from nightshift.store.tables import ActionProposalRow, AgentRow, EscalationRow
from tests.support.control_plane import World, make_world

HELD = Decision(Outcome.NEEDS_APPROVAL, ReasonCode.APPROVAL_REQUIRED, "a write: a human decides")


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = make_world(tmp_path)
    with w.container.db.transaction() as s:  # held calls come from approving phases
        agent = s.scalar(select(AgentRow).where(AgentRow.name == "triage"))
        assert agent is not None
        agent.trust_phase = "limited-remediation"
    yield w
    w.container.db.dispose()


def _held(world: World, status: str, **result: str) -> str:
    c = world.container
    identity = c.stewardship.identity("triage")
    pid = c.gateway_holds.hold(
        identity, {"tool": "restart_service", "params": {"service": "cart"}}, HELD,
        intent="cart is stuck", chain_id="chain-1", hold_seconds=5,
    )  # fmt: skip
    with c.db.transaction() as s:
        row = s.get(ActionProposalRow, pid)
        assert row is not None
        row.status, row.result = status, dict(result)
    return pid


def _status(world: World, pid: str) -> str:
    with world.container.db.read() as s:
        row = s.get(ActionProposalRow, pid)
        assert row is not None
        return row.status


def test_an_approved_call_nobody_claimed_after_its_hold_ends_failed_with_nothing_sent(
    world: World,
) -> None:
    pid = _held(world, "approved")
    holds = world.container.gateway_holds
    assert holds.settle_abandoned(datetime.now(UTC)) == 0  # its gateway may still claim it
    later = datetime.now(UTC) + timedelta(seconds=5) + CLAIM_GRACE + timedelta(seconds=1)
    assert holds.settle_abandoned(later) == 1
    assert _status(world, pid) == "failed"
    with world.container.db.read() as s:
        assert s.scalars(select(EscalationRow)).all() == []  # nothing reached the upstream


def test_a_forwarding_that_never_finished_ends_failed_and_asks_a_human_to_check(
    world: World,
) -> None:
    claimed = datetime.now(UTC) - FORWARD_GRACE - timedelta(seconds=1)
    pid = _held(world, "forwarding", claimed_at=claimed.isoformat())
    fresh = _held(world, "forwarding", claimed_at=datetime.now(UTC).isoformat())
    assert world.container.gateway_holds.settle_abandoned() == 1
    assert (_status(world, pid), _status(world, fresh)) == ("failed", "forwarding")
    with world.container.db.read() as s:
        [esc] = s.scalars(select(EscalationRow)).all()
        assert esc.kind == "gateway_call_interrupted" and esc.proposal_id == pid
        assert "check the upstream" in esc.summary
