"""What the console tests share: a finished 2 AM investigation whose tool text
is hostile, signing a TestClient in as a role, and reading back what the API
says (the console must agree with it)."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient
from httpx import Response

from tests.support.control_plane import World
from tests.unit.workflow.flow import FIREWALL_FIX, TWO_AM_RESULT, agent, finish, propose, start

CHANGE = {"kind": "Change", "name": "CHG-20417", "namespace": None}
CHECKOUT = {"kind": "Deployment", "name": "checkout", "namespace": "shop"}
EVIL = '<script>alert(1)</script><img src=x onerror="alert(2)">'
RESULT: dict[str, Any] = {
    **TWO_AM_RESULT,
    "hypotheses": [
        {"id": "H1", "fault": "firewall-rule-change", "confidence": 0.73, "state": "confirmed",
         "parent_id": None, "resource": CHANGE,
         "supporting": ["E1"], "refuting": [], "rationale": "change before onset"},
        {"id": "H2", "fault": "high-latency-dependency", "confidence": 0.3, "state": "open",
         "parent_id": "H1", "resource": CHECKOUT,
         "supporting": [], "refuting": ["E1"], "rationale": EVIL},
    ],
    "evidence": [{"id": "E1", "tool": "firewall_rules", "params": {"device": "fw-dc-edge-01"},
                  "summary": "drops " + EVIL, "status": "ok", "findings": [EVIL]}],
    "causal_chain": [
        {"hypothesis_id": "H1", "resource": CHANGE,
         "fault": "firewall-rule-change", "role": "root-cause", "confidence": 0.73, "title": "r"},
        {"hypothesis_id": "H2", "resource": CHECKOUT,
         "fault": "high-latency-dependency", "role": "symptom", "confidence": 0.3, "title": "slow"},
    ],
}  # fmt: skip


def sign_in(client: TestClient, world: World, who: str) -> str:
    """Signs ``client`` in as ``who`` (ending any session it had); returns the CSRF token."""
    client.cookies.clear()
    resp = client.post("/login", data={"token": world.tokens[who]}, follow_redirects=False)
    assert resp.status_code == 303, resp.text
    page = client.get("/investigations")
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found is not None
    return found.group(1)


def finished(client: TestClient, world: World) -> tuple[str, dict[str, Any]]:
    agent(world, "fixer", "limited-remediation")
    inv_id, worker = start(client, world, "fixer")
    proposal = propose(client, inv_id, worker, target=FIREWALL_FIX)
    finish(client, inv_id, worker, result=RESULT)
    return inv_id, proposal


def api(client: TestClient, world: World, path: str) -> Any:
    """The API's answer at ``path``, read as a viewer: what a console action must have changed."""
    resp = client.get(path, headers=world.auth("viewer"))
    assert resp.status_code == 200, resp.text
    return resp.json()


def refused(client: TestClient, form: str, data: dict[str, str]) -> Response:
    """Posts a console form that must be refused (403); the answer, to read its reason."""
    resp = client.post(form, data=data, follow_redirects=False)
    assert resp.status_code == 403, resp.text
    return resp
