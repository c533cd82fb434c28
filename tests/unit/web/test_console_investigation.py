"""The investigation page for results of every shape: a failed, cancelled or
early-ended investigation stores a partial result (no ``cycles``, no
``tool_calls``, sometimes no evidence at all) and its page must still render."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support.control_plane import World
from tests.unit.web.console import sign_in
from tests.unit.workflow.flow import agent, start

PARTIAL: list[tuple[str, dict[str, Any]]] = [
    ("failed", {"summary": "the reasoner crashed in cycle 1"}),
    ("failed", {"hypotheses": [{"id": "H1", "fault": "oom", "confidence": 0.4}]}),
    ("failed", {"diagnosis": {"evidence": [{"id": "E1", "tool": "pods"}]}}),
    ("escalated", {"root_causes": [{"fault": "disk-full"}], "cycles": 2}),
    ("escalated", {"causal_chain": [{"role": "root-cause"}], "hypotheses": None}),
]


def _ended(client: TestClient, world: World, status: str, result: dict[str, Any]) -> str:
    agent(world, "fixer", "limited-remediation")
    inv_id, worker = start(client, world, "fixer")
    resp = client.post(
        f"/v1/investigations/{inv_id}/worker/result",
        json={"status": status, "reason": "ended early", "result": result},
        headers=worker,
    )
    assert resp.status_code == 200, resp.text
    return inv_id


@pytest.mark.parametrize(("status", "result"), PARTIAL, ids=range(len(PARTIAL)))
def test_an_investigation_that_ended_early_renders_its_partial_result(
    client: TestClient, world: World, status: str, result: dict[str, Any]
) -> None:
    inv_id = _ended(client, world, status, result)
    sign_in(client, world, "operator")
    resp = client.get(f"/investigations/{inv_id}")
    assert resp.status_code == 200, resp.text[:2000]
    assert f"s-{status}" in resp.text
    assert "ended early" in resp.text  # the reason it ended is on the page
    assert client.get("/investigations").status_code == 200  # its row in the list too


def test_a_cancelled_investigation_without_a_result_renders(
    client: TestClient, world: World
) -> None:
    agent(world, "fixer", "limited-remediation")
    inv_id, _ = start(client, world, "fixer")
    resp = client.post(
        f"/v1/investigations/{inv_id}/cancel",
        json={"reason": "ended early"},
        headers=world.auth("operator"),
    )
    assert resp.status_code == 200, resp.text
    sign_in(client, world, "operator")
    page = client.get(f"/investigations/{inv_id}")
    assert page.status_code == 200, page.text[:2000]
    assert "s-cancelled" in page.text
