"""Building blocks for workflow tests: agents at a phase with real boundaries,
an investigation with its worker token, proposals and results posted as the
worker would."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from nightshift.store.tables import AgentRow
from tests.support.control_plane import World

BOUNDARIES: dict[str, Any] = {
    "namespaces": ["shop", "data"],
    "domains": ["kubernetes", "network", "database", "application"],
    "action_types": [
        "restart-pod",
        "restart-deployment",
        "scale-deployment",
        "rollback-deployment",
        "revert-firewall-rule",
        "clear-cache",
    ],
}
CLASS_FOR = {
    "shadow": "supervised",
    "assist": "supervised",
    "limited-remediation": "supervised",
    "autonomous-l1": "autonomous",
}
FIREWALL = {"kind": "Change", "name": "k8s-prod-to-dc"}  # what the offline agent names
FIREWALL_FIX = {"kind": "Change", "name": "CHG-20417"}  # the change that actually broke it
TWO_AM_RESULT: dict[str, Any] = {
    "outcome": "exhausted",
    "escalate": False,
    "summary": "exhausted: firewall-rule-change on Change/k8s-prod-to-dc (confidence 0.73)",
    "root_causes": [
        {
            "rank": 1,
            "resource": {**FIREWALL, "namespace": None},
            "fault": "firewall-rule-change",
            "category": "change",
            "explanation": "a firewall change blocks checkout -> risk-scoring on 8443",
            "confidence": 0.73,
            "evidence_ids": ["E1", "E4"],
            "remediation_class": "revert-firewall-rule",
        }
    ],
    "hypotheses": [{"id": "H1", "fault": "firewall-rule-change"}],
    "evidence": [{"id": "E1", "summary": "drops on fw-dc-edge-01"}],
    "cycles": 6,
    "tool_calls": 14,
}


def agent(
    world: World,
    name: str,
    phase: str,
    *,
    authority_class: str | None = None,
    threshold: float | None = None,
    boundaries: dict[str, Any] | None = None,
) -> None:
    world.container.agents.register(
        name,
        owner="lead",
        authority_class=authority_class or CLASS_FOR[phase],
        trust_phase=phase,
        boundaries=BOUNDARIES if boundaries is None else boundaries,
    )
    if threshold is not None:
        with world.container.db.transaction() as s:
            row = s.scalar(select(AgentRow).where(AgentRow.name == name))
            assert row is not None
            row.settings = {"thresholds": {"auto_execute_confidence": threshold}}


def start(
    client: TestClient, world: World, agent_name: str, scenario: str = "two-am-cascade"
) -> tuple[str, dict[str, str]]:
    """Submit, dispatch and mark running; returns the id and the worker's auth header."""
    resp = client.post(
        "/v1/investigations",
        json={"agent": agent_name, "scenario": scenario},
        headers=world.auth("operator"),
    )
    assert resp.status_code == 201, resp.text
    inv_id = str(resp.json()["id"])
    world.container.dispatcher.dispatch_once()
    launch = next(x for x in world.executor.launches if x.investigation_id == inv_id)
    worker = {"Authorization": f"Bearer {launch.token}"}
    client.post(
        f"/v1/investigations/{inv_id}/worker/events",
        json={"events": [{"kind": "investigation.started", "data": {}}]},
        headers=worker,
    )
    return inv_id, worker


def propose(
    client: TestClient,
    inv_id: str,
    worker: dict[str, str],
    action: str = "revert-firewall-rule",
    target: dict[str, Any] | None = None,
    confidence: float = 0.73,
    **extra: Any,
) -> dict[str, Any]:
    body = {
        "action": action,
        "target": target or FIREWALL,
        "confidence": confidence,
        "hypothesis_id": "H1",
        "rationale": "CHG-20417 narrowed the allow rule to 443",
        "evidence_ids": ["E1"],
        **extra,
    }
    resp = client.post(
        f"/v1/investigations/{inv_id}/worker/proposals",
        json={"proposals": [body]},
        headers=worker,
    )
    assert resp.status_code == 201, resp.text
    return dict(resp.json()[0])


def finish(
    client: TestClient,
    inv_id: str,
    worker: dict[str, str],
    status: str = "succeeded",
    result: dict[str, Any] | None = None,
) -> None:
    resp = client.post(
        f"/v1/investigations/{inv_id}/worker/result",
        json={"status": status, "reason": "done", "result": result or TWO_AM_RESULT},
        headers=worker,
    )
    assert resp.status_code == 200, resp.text
