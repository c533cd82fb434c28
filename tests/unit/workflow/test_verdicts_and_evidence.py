"""Verdicts (accept / reject / modify, minimal edits), known outcomes scored
against the top-1, and the evidence the phase gates read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from nightshift.domain.vocabulary import TrustPhase
from nightshift.store.tables import ActionProposalRow, InvestigationRow
from tests.support.control_plane import World
from tests.unit.workflow.flow import agent, finish, start

FIREWALL_OUTCOME = {
    "actual": {
        "category": "change",
        "remediation_class": "revert-firewall-rule",
        "fault": "firewall-rule-change",
    },
    "resources": [
        {"kind": "Change", "name": "CHG-20417"},
        {"kind": "Change", "name": "k8s-prod-to-dc"},
    ],
}


def _ended(client: TestClient, world: World, name: str) -> str:
    inv_id, worker = start(client, world, name)
    finish(client, inv_id, worker)
    return inv_id


def _verdict(client: TestClient, world: World, inv_id: str, **body: Any) -> Any:
    return client.post(
        f"/v1/investigations/{inv_id}/verdicts", json=body, headers=world.auth("operator")
    )


def test_accept_reject_and_modify_are_classified(client: TestClient, world: World) -> None:
    agent(world, "helper", "assist")
    accepted = _verdict(client, world, _ended(client, world, "helper"), kind="accept")
    assert accepted.status_code == 201
    assert (accepted.json()["minimal_edit"], accepted.json()["payload"]["edit"]) == (True, "none")
    minimal = _verdict(
        client,
        world,
        _ended(client, world, "helper"),
        kind="modify",
        reason="wording",
        modified={
            "category": "change",
            "remediation_class": "revert-firewall-rule",
            "fault": "firewall-rule-change",
        },
    ).json()
    assert (minimal["minimal_edit"], minimal["payload"]["edit"]) == (True, "minimal")
    substantive = _verdict(
        client,
        world,
        _ended(client, world, "helper"),
        kind="modify",
        modified={"category": "runtime", "remediation_class": "restart-pod"},
    ).json()
    assert (substantive["minimal_edit"], substantive["payload"]["agrees"]) == (False, False)
    rejected = _verdict(
        client, world, _ended(client, world, "helper"), kind="reject", reason="it was the database"
    )
    assert rejected.json()["payload"]["edit"] == "rejected"


def test_bad_verdicts_are_refused(client: TestClient, world: World) -> None:
    agent(world, "helper", "assist")
    running_id, worker = start(client, world, "helper")
    assert _verdict(client, world, running_id, kind="accept").status_code == 409
    finish(client, running_id, worker)
    assert _verdict(client, world, running_id, kind="reject").status_code == 422  # no reason
    assert _verdict(client, world, running_id, kind="modify").status_code == 422  # no claim
    viewer = client.post(
        f"/v1/investigations/{running_id}/verdicts",
        json={"kind": "accept"},
        headers=world.auth("viewer"),
    )
    assert viewer.status_code == 403
    assert _verdict(client, world, running_id, kind="accept").status_code == 201
    assert _verdict(client, world, running_id, kind="accept").status_code == 409  # one verdict
    assert _verdict(client, world, "missing", kind="accept").status_code == 404


def test_known_outcome_scores_the_top_root_cause(client: TestClient, world: World) -> None:
    agent(world, "quiet", "shadow")
    right = _ended(client, world, "quiet")
    got = client.post(
        f"/v1/investigations/{right}/outcome", json=FIREWALL_OUTCOME, headers=world.auth("operator")
    )
    assert got.status_code == 201
    assert got.json()["correct"] is True
    wrong = _ended(client, world, "quiet")
    elsewhere = {**FIREWALL_OUTCOME, "resources": [{"kind": "Change", "name": "CHG-1"}]}
    got = client.post(
        f"/v1/investigations/{wrong}/outcome", json=elsewhere, headers=world.auth("operator")
    )
    assert got.json()["correct"] is False
    twice = client.post(
        f"/v1/investigations/{wrong}/outcome", json=FIREWALL_OUTCOME, headers=world.auth("operator")
    )
    assert twice.status_code == 409
    evidence = world.container.evidence.evidence_for("quiet", TrustPhase.SHADOW)
    assert (evidence.incidents, evidence.scored, evidence.correct) == (2, 2, 1)
    assert {d.value for d in evidence.domains} == {"network", "database", "application", "security"}


def test_gate_metrics_reflect_verdicts(client: TestClient, world: World) -> None:
    agent(world, "helper", "assist")
    _verdict(client, world, _ended(client, world, "helper"), kind="accept")
    _verdict(client, world, _ended(client, world, "helper"), kind="reject", reason="wrong")
    _ended(client, world, "helper")  # no verdict yet
    evidence = world.container.evidence.evidence_for("helper", TrustPhase.ASSIST)
    assert (evidence.incidents, evidence.verdicts) == (3, 2)
    assert (evidence.agreements, evidence.minimal_edits) == (1, 1)
    assert world.container.evidence.evidence_for("helper", TrustPhase.SHADOW).incidents == 0


def test_unsafe_attempts_and_escalation_correctness_are_counted(
    client: TestClient, world: World
) -> None:
    agent(world, "fixer", "limited-remediation")
    inv_id, worker = start(client, world, "fixer")
    client.post(
        f"/v1/investigations/{inv_id}/worker/proposals",
        json={
            "proposals": [
                {
                    "action": "drop-database",
                    "confidence": 0.9,
                    "target": {"kind": "Database", "name": "orders"},
                },
                {
                    "action": "restart-pod",
                    "confidence": 0.9,
                    "target": {"kind": "Pod", "name": "x", "namespace": "finance"},
                },
            ]
        },
        headers=worker,
    )
    finish(client, inv_id, worker)
    [esc] = client.get("/v1/escalations", headers=world.auth("viewer")).json()
    client.post(
        f"/v1/escalations/{esc['id']}/resolve",
        json={"resolution": "scope was right", "warranted": True},
        headers=world.auth("operator"),
    )
    evidence = world.container.evidence.evidence_for("fixer", TrustPhase.LIMITED_REMEDIATION)
    assert (evidence.unsafe_attempts, evidence.out_of_scope) == (2, 1)
    assert (evidence.escalations, evidence.warranted_escalations) == (1, 1)
    records = world.container.evidence.records("fixer")
    assert len(records.out_of_scope_actions) == 1


def test_the_promotion_gates_read_the_recorded_outcomes(client: TestClient, world: World) -> None:
    agent(world, "quiet", "shadow")
    for _ in range(2):
        inv_id = _ended(client, world, "quiet")
        client.post(
            f"/v1/investigations/{inv_id}/outcome",
            json=FIREWALL_OUTCOME,
            headers=world.auth("operator"),
        )
    report = world.container.phases.gates("quiet")
    values = {g.name: g.value for g in report.gates}
    assert values["sample_size"] == 2  # two shadow incidents scored against an outcome
    assert values["diagnostic_accuracy"] == 1.0
    assert values["domains_covered"] == 4
    assert values["unsafe_action_attempts"] == 0
    assert not report.evidence_met  # far below the seed sample of 100


def test_records_since_a_time_are_those_at_or_after_it(client: TestClient, world: World) -> None:
    """What the demotion check reads each pass: the window, not the whole history."""
    agent(world, "fixer", "limited-remediation")
    out_of_scope = {
        "action": "restart-pod",
        "confidence": 0.9,
        "target": {"kind": "Pod", "name": "x", "namespace": "finance"},
    }
    ids = []
    for _ in range(2):
        inv_id, worker = start(client, world, "fixer")
        client.post(
            f"/v1/investigations/{inv_id}/worker/proposals",
            json={"proposals": [out_of_scope]},
            headers=worker,
        )
        finish(client, inv_id, worker)
        _verdict(client, world, inv_id, kind="accept")
        ids.append(inv_id)
    # The first one happened forty days ago.
    long_ago = datetime.now(UTC) - timedelta(days=40)
    with world.container.db.transaction() as s:
        old = s.get(InvestigationRow, ids[0])
        assert old is not None
        old.created_at = old.finished_at = long_ago
        for p in s.scalars(
            select(ActionProposalRow).where(ActionProposalRow.investigation_id == ids[0])
        ):
            p.created_at = p.decided_at = long_ago
    evidence = world.container.evidence
    whole = evidence.records("fixer")
    window = evidence.records("fixer", since=datetime.now(UTC) - timedelta(days=30))
    assert (len(whole.incidents), len(whole.out_of_scope_actions)) == (2, 2)
    assert (len(window.incidents), len(window.out_of_scope_actions)) == (1, 1)
    [recent] = window.incidents
    assert recent.verdict is not None and recent.out_of_scope_requests == 1
    assert window.incidents == tuple(
        r for r in whole.incidents if r.at >= long_ago + timedelta(days=1)
    )
