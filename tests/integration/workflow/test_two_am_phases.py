"""The 2 AM scenario through every trust phase, with real processes on the
embedded default (SQLite, local executor, offline reasoner, simulated world):
a control plane (`nightshift up`) and one real worker process per investigation.

shadow: output recorded, hidden until an ops lead reviews it, scored later;
assist: a recommendation the operator judges; limited: approval of a modified
target, executed in the simulated world, symptom verified gone; autonomous:
the catalog keeps firewall reverts for humans, so it asks for approval.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from nightshift.bootstrap import build_container
from nightshift.domain.vocabulary import PrincipalKind, Role
from nightshift.settings import Settings
from tests.support.server import TERMINAL, ControlPlane
from tests.unit.workflow.flow import BOUNDARIES

pytestmark = pytest.mark.slow
PHASES = {
    "night-shadow": ("supervised", "shadow"),
    "night-assist": ("supervised", "assist"),
    "night-limited": ("supervised", "limited-remediation"),
    "night-auto": ("autonomous", "autonomous-l1"),
}


def _provision(plane: ControlPlane) -> dict[str, str]:
    container = build_container(Settings(data_dir=plane.data_dir, database_url=plane.database_url))
    tokens = {}
    try:
        p = container.principals
        for name, role in (
            ("admin", Role.ADMIN),
            ("lead", Role.OPS_LEAD),
            ("operator", Role.OPERATOR),
        ):
            p.create_user(
                name,
                kind=PrincipalKind.HUMAN,
                roles=frozenset({role}),
                contact=f"{name}@example.org",
            )
            tokens[name] = p.create_token(name)
        for agent, (klass, phase) in PHASES.items():
            container.agents.register(
                agent, owner="lead", authority_class=klass, trust_phase=phase, boundaries=BOUNDARIES
            )
    finally:
        container.db.dispose()
    return tokens


def _client(plane: ControlPlane, token: str) -> httpx.Client:
    return httpx.Client(
        base_url=plane.url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )


def _run(plane: ControlPlane, op: httpx.Client, agent: str) -> dict[str, Any]:
    inv = plane.submit(op, agent=agent, scenario="two-am-cascade", title="")
    done = plane.wait_for(op, inv["id"], TERMINAL, timeout=120)
    assert done["status"] == "succeeded", done
    return done


def _cli(plane: ControlPlane, token: str, *args: str) -> Any:
    env = {
        **os.environ,
        "NIGHTSHIFT_API_URL": plane.url,
        "NIGHTSHIFT_TOKEN": token,
        "NIGHTSHIFT_DATA_DIR": str(plane.data_dir),
    }
    done = subprocess.run(
        [sys.executable, "-m", "nightshift", *args, "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _proposals(client: httpx.Client, inv_id: str) -> list[dict[str, Any]]:
    return list(client.get(f"/v1/investigations/{inv_id}/proposals").json())


def _firewall(client: httpx.Client, inv_id: str) -> dict[str, Any]:
    """The proposal for the top root cause (other causes may add others)."""
    found = [p for p in _proposals(client, inv_id) if p["action"] == "revert-firewall-rule"]
    assert len(found) == 1, _proposals(client, inv_id)
    return found[0]


def test_the_two_am_cascade_through_every_phase(tmp_path: Path) -> None:
    plane = ControlPlane(
        tmp_path,
        f"sqlite:///{tmp_path / 'nightshift.db'}",
        env_overrides={"NIGHTSHIFT_ONCALL_CONTACT": "oncall@example.org"},
    )
    tokens = _provision(plane)
    plane.start()
    try:
        with _client(plane, tokens["operator"]) as op, _client(plane, tokens["lead"]) as lead:
            # shadow: the real worker proposed, but operators see nothing until review
            shadow = _run(plane, op, "night-shadow")
            assert _proposals(op, shadow["id"]) == []
            assert op.get("/v1/approvals", params={"status": "any"}).json() == []
            [item] = op.get("/v1/reviews/shadow").json()
            assert item["investigation_id"] == shadow["id"] and item["result"] is None
            detail = lead.get(f"/v1/reviews/shadow/{item['id']}").json()
            assert detail["result"]["root_causes"][0]["fault"] == "firewall-rule-change"
            assert {p["status"] for p in detail["proposals"]} == {"recorded"}
            lead.post(f"/v1/reviews/shadow/{item['id']}/review", json={"note": "as in the PM"})
            assert _firewall(op, shadow["id"])["status"] == "recorded"
            scored = op.post(
                f"/v1/investigations/{shadow['id']}/outcome",
                json={
                    "actual": {
                        "category": "change",
                        "remediation_class": "revert-firewall-rule",
                        "fault": "firewall-rule-change",
                    },
                    "resources": [
                        {"kind": "Change", "name": "CHG-20417"},
                        {"kind": "Change", "name": "k8s-prod-to-dc"},
                    ],
                },
            ).json()
            assert scored["correct"] is True

            # assist: a recommendation, judged by the operator
            assist = _run(plane, op, "night-assist")
            rec = _firewall(op, assist["id"])
            assert (rec["status"], rec["action"]) == ("recommended", "revert-firewall-rule")
            assert rec["intent"]["evidence_ids"]
            verdict = op.post(
                f"/v1/investigations/{assist['id']}/verdicts",
                json={
                    "kind": "modify",
                    "reason": "name the change, not the ruleset",
                    "modified": {
                        "category": "change",
                        "remediation_class": "revert-firewall-rule",
                        "fault": "firewall-rule-change",
                    },
                },
            ).json()
            assert verdict["minimal_edit"] is True

            # limited: approve the change itself; executed and verified in the world
            limited = _run(plane, op, "night-limited")
            req = _firewall(op, limited["id"])
            assert req["status"] == "pending_approval"
            done = op.post(
                f"/v1/approvals/{req['id']}/approve",
                json={
                    "reason": "revert CHG-20417",
                    "target": {"kind": "Change", "name": "CHG-20417"},
                },
            ).json()
            assert done["status"] == "executed", done
            assert done["result"]["symptoms_before"] is True
            assert done["result"]["verified"] is True
            shown = _cli(plane, tokens["operator"], "approvals", "show", req["id"])
            assert shown["result"]["verified"] is True
            listed = _cli(plane, tokens["operator"], "approvals", "list", "--status", "any")
            assert {p["status"] for p in listed} == {"recommended", "executed"}  # no shadow

            # autonomous: firewall reverts are never automatic (catalog), so it asks
            auto = _run(plane, op, "night-auto")
            ask = _firewall(op, auto["id"])
            assert (ask["status"], ask["decision"]["reason"]) == (
                "pending_approval",
                "approval_required",
            )
            assert _cli(plane, tokens["operator"], "escalations", "list") == []
            reviews = _cli(plane, tokens["operator"], "shadow-reviews", "list", "--status", "any")
            assert [r["status"] for r in reviews] == ["reviewed"]
            verdicts = _cli(plane, tokens["operator"], "verdict", "list", shadow["id"])
            assert [v["kind"] for v in verdicts] == ["outcome"]
    finally:
        plane.stop()
