"""Approving the 2 AM proposal exactly as the agent asked fixes the incident.

Real processes on the embedded default (SQLite, local executor, offline
reasoner, simulated world): a control plane (`nightshift up`) and a real
worker. The proposal must name a resource that exists (the change record
CHG-20417), so an approval without edits passes the dry-run, executes and is
verified; the diagnosis carries its causal chain; and the CLI says
"executed" only for what really executed.
"""

from __future__ import annotations

import os
import re
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
_EXECUTED = re.compile(r"^\s+executed: ", re.M)  # the CLI's line for an action that ran


def _provision(plane: ControlPlane) -> str:
    container = build_container(Settings(data_dir=plane.data_dir, database_url=plane.database_url))
    try:
        p = container.principals
        p.create_user(
            "lead",
            kind=PrincipalKind.HUMAN,
            roles=frozenset({Role.OPS_LEAD}),
            contact="lead@example.org",
        )
        p.create_user(
            "operator",
            kind=PrincipalKind.HUMAN,
            roles=frozenset({Role.OPERATOR}),
            contact="operator@example.org",
        )
        container.agents.register(
            "night-limited",
            owner="lead",
            authority_class="supervised",
            trust_phase="limited-remediation",
            boundaries=BOUNDARIES,
        )
        return p.create_token("operator")
    finally:
        container.db.dispose()


def _cli(plane: ControlPlane, token: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "NIGHTSHIFT_API_URL": plane.url,
        "NIGHTSHIFT_TOKEN": token,
        "NIGHTSHIFT_DATA_DIR": str(plane.data_dir),
        "COLUMNS": "200",
    }
    return subprocess.run(
        [sys.executable, "-m", "nightshift", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _investigate(plane: ControlPlane, op: httpx.Client) -> dict[str, Any]:
    inv = plane.submit(op, agent="night-limited", scenario="two-am-cascade", title="")
    done = plane.wait_for(op, inv["id"], TERMINAL, timeout=120)
    assert done["status"] == "succeeded", done
    return done


def _ask(op: httpx.Client, inv: dict[str, Any]) -> dict[str, Any]:
    """The agent's request for its top root cause, as it asked for it."""
    proposals = op.get(f"/v1/investigations/{inv['id']}/proposals").json()
    [ask] = [p for p in proposals if p["action"] == "revert-firewall-rule"]
    assert ask["status"] == "pending_approval"
    assert (ask["target"]["kind"], ask["target"]["name"]) == ("Change", "CHG-20417")
    return dict(ask)


def test_approving_the_two_am_proposal_exactly_as_asked_executes_and_fixes_it(
    tmp_path: Path,
) -> None:
    plane = ControlPlane(
        tmp_path,
        f"sqlite:///{tmp_path / 'nightshift.db'}",
        env_overrides={"NIGHTSHIFT_ONCALL_CONTACT": "oncall@example.org"},
    )
    token = _provision(plane)
    plane.start()
    try:
        with httpx.Client(
            base_url=plane.url, headers={"Authorization": f"Bearer {token}"}, timeout=30
        ) as op:
            # a target that does not exist fails the dry-run: the CLI must not say "executed"
            first = _ask(op, _investigate(plane, op))
            bad = _cli(plane, token, "approvals", "approve", first["id"], "--reason", "typo",
                       "--target", "Change/CHG-00000")  # fmt: skip
            assert bad.returncode == 0, bad.stderr
            assert "not executed: dry-run failed" in bad.stdout
            assert not _EXECUTED.search(bad.stdout)
            failed = op.get(f"/v1/approvals/{first['id']}").json()
            assert failed["status"] == "failed" and failed["result"]["dry_run"]["ok"] is False

            inv = _investigate(plane, op)
            result = op.get(f"/v1/investigations/{inv['id']}").json()["result"]
            top = result["root_causes"][0]
            assert (top["resource"]["kind"], top["resource"]["name"]) == ("Change", "CHG-20417")
            assert result["outcome"] == "diagnosed" and result["cycles"] <= 8
            chain = [(s["resource"]["name"], s["fault"]) for s in result["causal_chain"]]
            assert chain[0] == ("CHG-20417", "firewall-rule-change")
            # the change -> checkout-api stalled calling risk-scoring -> the exhausted pool
            assert chain[1] == ("checkout-api", "high-latency-dependency")
            assert chain[-1][0] in ("pgbouncer", "orders-db-primary")
            assert chain[-1][1] in ("connection-pool-exhaustion", "db-connection-limit")

            # exactly as asked: no modified target, no params
            ask = _ask(op, inv)
            shown = _cli(plane, token, "approvals", "approve", ask["id"], "--reason", "as asked")
            assert shown.returncode == 0, shown.stderr
            assert _EXECUTED.search(shown.stdout) and "not executed" not in shown.stdout
            done = op.get(f"/v1/approvals/{ask['id']}").json()
            assert done["status"] == "executed", done
            assert done["result"]["dry_run"]["ok"] is True
            assert done["result"]["verified"] is True
    finally:
        plane.stop()
