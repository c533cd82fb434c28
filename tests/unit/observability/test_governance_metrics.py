"""Governance as metrics: demotions, approval decision latency, gate and depth views
through the CLI."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from nightshift.cli.main import app as cli
from nightshift.domain.ids import new_id
from nightshift.store.tables import (
    ActionProposalRow,
    AgentRow,
    InvestigationRow,
    PhaseChangeRow,
    UserRow,
)
from tests.support.control_plane import World
from tests.support.in_process_worker import submit
from tests.unit.observability.scrape import Scrape


def _scrape(client: TestClient) -> Scrape:
    return Scrape(client.get("/metrics").text)


def test_phase_changes_after_start_up_are_counted_once(client: TestClient, world: World) -> None:
    before = _scrape(client)
    assert before.value("nightshift_phase_changes_total", kind="registered") == 1  # after start
    assert before.value("nightshift_phase_changes_total", kind="demoted") == 0
    with world.container.db.transaction() as s:
        agent_id = s.scalar(select(AgentRow.id).where(AgentRow.name == "triage"))
        assert agent_id is not None
        s.add(
            PhaseChangeRow(
                agent_id=agent_id,
                kind="demoted",
                from_phase="assist",
                to_phase="shadow",
                actor="nightshift",
                reason="accuracy",
            )
        )
    m = _scrape(client)
    assert m.value("nightshift_phase_changes_total", agent="triage", kind="demoted") == 1
    assert _scrape(client).value("nightshift_phase_changes_total", kind="demoted") == 1


def test_human_approval_decisions_are_timed_from_request_to_decision(
    client: TestClient, world: World
) -> None:
    inv = submit(client, world, "two-am-cascade")
    now = datetime.now(UTC)
    with world.container.db.transaction() as s:
        agent_id = s.scalar(select(AgentRow.id).where(AgentRow.name == "triage"))
        lead = s.scalar(select(UserRow.id).where(UserRow.name == "lead"))
        assert agent_id is not None and s.get(InvestigationRow, inv) is not None
        for status, waited in (("executed", 120), ("rejected", 30)):
            s.add(
                ActionProposalRow(
                    id=new_id(),
                    investigation_id=inv,
                    agent_id=agent_id,
                    action_type="restart-pod",
                    target={},
                    phase="limited-remediation",
                    status=status,
                    created_at=now - timedelta(seconds=waited),
                    decided_at=now,
                    decided_by=lead,
                )
            )
    m = _scrape(client)
    assert m.value("nightshift_approval_decisions_total", decision="approved") == 1
    assert m.value("nightshift_approval_decisions_total", decision="rejected") == 1
    assert m.value("nightshift_approval_decision_seconds_count") == 2
    assert 149 < m.value("nightshift_approval_decision_seconds_sum") < 152
    again = _scrape(client)  # counted once, not at every scrape
    assert again.value("nightshift_approval_decision_seconds_count") == 2


def test_gates_and_depth_commands_show_values_against_thresholds(world: World, live: str) -> None:
    runner = CliRunner()
    auth = ["--api", live, "--token", world.tokens["viewer"]]
    gates = runner.invoke(cli, ["gates", *auth, "--json"])
    assert gates.exit_code == 0, gates.output
    (report,) = json.loads(gates.output)
    assert (report["agent"], report["target"]) == ("triage", "limited-remediation")
    table = runner.invoke(cli, ["gates", *auth], env={"COLUMNS": "160"})
    assert "sample_size" in table.output and ">= 150" in table.output
    depth = runner.invoke(cli, ["depth", *auth, "--json"])
    assert {b["tier"]: b["limit"] for b in json.loads(depth.output)} == {
        "single-domain": 8,
        "multi-domain": 15,
    }
    shown = runner.invoke(cli, ["depth", *auth], env={"COLUMNS": "160"})
    assert "too few samples" in shown.output
