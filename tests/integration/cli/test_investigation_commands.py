"""Investigations and the operator workflow, each command run as the
installed ``nightshift`` script against a real ``nightshift up`` whose
workers are real processes."""

from __future__ import annotations

import json
import os
import re
import subprocess

import pytest

from nightshift.domain.actions import load_action_catalog
from tests.integration.cli.conftest import ALL_DOMAINS, NIGHTSHIFT, Cli

pytestmark = pytest.mark.slow
EXIT_FAILED, EXIT_USAGE, EXIT_ESCALATED, EXIT_API = 1, 2, 3, 4
SCENARIO = ("--scenario", "two-am-cascade")
FIX = (
    "--category",
    "change",
    "--remediation-class",
    "revert-firewall-rule",
    "--fault",
    "firewall-rule-change",
)


def _register(cli: Cli, name: str, phase: str, *, actions: bool) -> None:
    args = [
        "agents",
        "register",
        name,
        "--owner",
        "oncall",
        "--class",
        "supervised",
        "--phase",
        phase,
        "--namespace",
        "*",
    ]
    args += [a for d in ALL_DOMAINS for a in ("--domain", d)]
    if actions:
        args += [a for spec in load_action_catalog() for a in ("--action", spec.name)]
    cli(*args)


def _run(cli: Cli, agent: str) -> str:
    """Submit, follow to the end (exit 0 succeeded / 3 escalated), return the id."""
    inv = cli("investigate", *SCENARIO, "--agent", agent, "--json").json()["id"]
    done = subprocess.run(
        [NIGHTSHIFT, "investigations", "events", inv, "--json"],
        env=cli.env(None),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode in (0, EXIT_ESCALATED), done
    return str(inv)


def test_investigate_follow_list_show_events_logs(cli: Cli) -> None:
    followed = subprocess.run(
        [NIGHTSHIFT, "investigate", *SCENARIO, "--agent", "triage", "--follow"],
        env=cli.env(None),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert followed.returncode in (0, EXIT_ESCALATED), followed
    ended = re.search(r"investigation (\w{32}) ended (succeeded|escalated)", followed.stdout)
    assert ended, followed.stdout
    assert followed.returncode == {"succeeded": 0, "escalated": EXIT_ESCALATED}[ended.group(2)]
    assert "diagnosis" in followed.stdout
    inv = ended.group(1)

    assert re.search(rf"^│ {inv} │ triage\s+│", cli("investigations", "list").out, re.M)
    page = cli("investigations", "list", "--agent", "triage", "--json").json()
    assert inv in {i["id"] for i in page["items"]}
    shown = cli("investigations", "show", inv).out
    assert shown.startswith(f"{inv} {ended.group(2)}")
    view = cli("investigations", "show", inv, "--json").json()
    assert view["result"]["root_causes"]
    assert view["created_at"].endswith(("Z", "+00:00"))
    events = [
        json.loads(line)
        for line in cli(
            "investigations", "events", inv, "--json", expect=followed.returncode
        ).out.splitlines()
    ]
    assert events[0]["kind"] == "status" and events[-1]["data"]["status"] == ended.group(2)
    # `agent run` is what the local executor started for it: its log is the worker's.
    log = cli("investigations", "logs", inv).out
    assert inv in log
    cli("investigations", "show", "no-such-investigation", expect=EXIT_API)


def test_agent_run_refuses_to_start_without_its_token(cli: Cli) -> None:
    env = {k: v for k, v in cli.env(None).items() if k != "NIGHTSHIFT_WORKER_TOKEN"}
    done = subprocess.run(
        [NIGHTSHIFT, "agent", "run", "--investigation", "x", "--api", cli.plane.url],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == EXIT_USAGE
    assert "no worker token in NIGHTSHIFT_WORKER_TOKEN" in done.stderr + done.stdout


def test_investigate_refuses_bad_input(cli: Cli) -> None:
    assert "--scenario NAME" in cli("investigate", expect=EXIT_USAGE).err
    refused = cli("investigate", "--scenario", "/tmp/evil.yaml", expect=EXIT_API)
    assert "422" in refused.err and "scenario" in refused.err


def test_cancel_a_held_investigation(cli: Cli) -> None:
    _register(cli, "held-bot", "assist", actions=False)
    cli.lead("agents", "suspend", "held-bot", "--reason", "hold its queue")
    inv = cli("investigate", *SCENARIO, "--agent", "held-bot", "--json").json()
    assert inv["status"] == "held"
    got = cli("investigations", "cancel", inv["id"], "--reason", "not needed")
    assert got.out.startswith(f"{inv['id']} cancelled")
    cli("investigations", "cancel", inv["id"], expect=EXIT_API)  # already ended


def test_approvals_approve_rollback_and_reject(cli: Cli) -> None:
    _register(cli, "fixer", "limited-remediation", actions=True)
    # One rollback in one execution would demote it on the next reconcile pass (the
    # seed rule counts from the first execution); this flow is about approvals, so
    # its owner asks for five executions before the rollback rate counts.
    lenient = {"demotion": {"min_sample": 5}}
    cli.lead("agents", "thresholds", "fixer", "--from-file", cli.file("lenient.json", lenient))
    first = _run(cli, "fixer")
    pending = cli("approvals", "list", "--investigation", first, "--json").json()
    assert [p["status"] for p in pending] == ["pending_approval"]
    pid = pending[0]["id"]
    assert re.search(rf"^│ {pid} │ pending_approval │ fixer", cli("approvals", "list").out, re.M)
    assert cli("approvals", "show", pid).out.startswith(f"{pid} pending_approval")
    assert cli("approvals", "show", pid, "--json").json()["action"] == "revert-firewall-rule"
    approved = cli.lead("approvals", "approve", pid, "--reason", "revert the change")
    assert approved.out.startswith(f"{pid} executed")
    rolled = cli.lead("approvals", "rollback", pid, "--reason", "undo", "--json").json()
    assert rolled["status"] == "rolled_back"

    second = _run(cli, "fixer")
    other = cli("approvals", "list", "--investigation", second, "--json").json()[0]["id"]
    rejected = cli.lead("approvals", "reject", other, "--reason", "not tonight")
    assert rejected.out.startswith(f"{other} rejected")
    everything = cli("approvals", "list", "--status", "any", "--agent", "fixer", "--json").json()
    assert {p["status"] for p in everything} == {"rolled_back", "rejected"}
    cli.lead("approvals", "reject", other, "--reason", "again", expect=EXIT_API)


def test_verdicts_judge_a_diagnosis_and_record_the_outcome(cli: Cli) -> None:
    # One verdict per diagnosis: judge three finished ones from the tests above.
    finished = [
        i["id"]
        for i in cli("investigations", "list", "--json").json()["items"]
        if i["status"] in ("succeeded", "escalated") and i["agent"] in ("triage", "fixer")
    ]
    assert len(finished) >= 3, finished
    first, second, third = finished[:3]
    accepted = cli.lead("verdict", "accept", first, "--reason", "matches")
    assert accepted.out.startswith(f"accept on {first} by lead")
    rejected = cli.lead("verdict", "reject", second, "--reason", "wrong tier", "--json").json()
    assert rejected["kind"] == "reject" and rejected["investigation_id"] == second
    modified = cli.lead("verdict", "modify", third, *FIX[:4], "--fault", "acl-change")
    assert modified.out.startswith(f"modify on {third} by lead")
    cli.lead("verdict", "accept", third, expect=EXIT_API)  # already judged
    outcome = cli.lead("verdict", "outcome", third, *FIX, "--resource", "Change/CHG-20417")
    assert outcome.out.strip() == f"outcome on {third} by lead correct=True"
    kinds = sorted(v["kind"] for v in cli("verdict", "list", third, "--json").json())
    assert kinds == ["modify", "outcome"]
    assert f"outcome on {third}" in cli("verdict", "list", third).out
    cli.lead("verdict", "outcome", "no-such", *FIX, expect=EXIT_API)


def test_escalations_list_show_ack_resolve(cli: Cli) -> None:
    _register(cli, "narrow", "limited-remediation", actions=False)  # any action is out of scope
    inv = _run(cli, "narrow")
    listed = [
        e
        for e in cli("escalations", "list", "--agent", "narrow", "--json").json()
        if e["investigation_id"] == inv
    ]
    assert listed and listed[0]["kind"] == "out_of_scope" and listed[0]["status"] == "open"
    eid = listed[0]["id"]
    assert re.search(rf"^│ {eid} │ open\s+│ out_of_scope", cli("escalations", "list").out, re.M)
    assert cli("escalations", "show", eid).out.startswith(f"{eid} open  out_of_scope")
    assert cli("escalations", "show", eid, "--json").json()["investigation_id"] == inv
    assert cli.lead("escalations", "ack", eid, "--note", "on it").out.startswith(f"{eid} acked")
    resolved = cli.lead(
        "escalations", "resolve", eid, "--resolution", "fixed by hand", "--warranted"
    )
    assert resolved.out.startswith(f"{eid} resolved")
    assert cli("escalations", "list", "--status", "resolved", "--json").json()


def test_shadow_reviews_list_show_done(cli: Cli) -> None:
    _register(cli, "quiet", "shadow", actions=True)
    inv = _run(cli, "quiet")
    items = [
        r for r in cli("shadow-reviews", "list", "--json").json() if r["investigation_id"] == inv
    ]
    assert len(items) == 1
    rid = items[0]["id"]
    assert re.search(
        rf"^│ {rid} │ open\s+│ quiet\s+│ {inv} │", cli("shadow-reviews", "list").out, re.M
    )
    shown = cli("shadow-reviews", "show", rid).out
    assert shown.startswith(f"{rid} open") and "diagnosis" in shown
    assert cli("shadow-reviews", "show", rid, "--json").json()["result"]["root_causes"]
    assert cli("shadow-reviews", "done", rid, "--note", "fine").out.strip() == f"{rid} reviewed"
    assert cli("shadow-reviews", "list", "--status", "reviewed", "--json").json()


def test_audit_verify_and_explain(cli: Cli) -> None:
    inv = cli("investigations", "list", "--agent", "triage", "--json").json()["items"][0]["id"]
    assert cli("audit", "verify").out.startswith("audit chain intact")
    explained = cli("audit", "explain", "--investigation", inv).out
    assert re.search(r"^#\d+ ", explained, re.M) and "policy:" in explained
    records = cli("audit", "explain", "--investigation", inv, "--json").json()
    assert records and all("seq" in r for r in records)
    cli("audit", "explain", "--investigation", "no-such", expect=EXIT_FAILED)


def test_costs_gates_depth(cli: Cli) -> None:
    costs = cli("costs", "--since", "1d", "--json").json()
    assert costs["investigations"] >= 1
    assert "investigations finished" in cli("costs", "--agent", "triage").out
    cli("costs", "--since", "yesterday-ish", expect=EXIT_USAGE)
    gates = cli("gates", "--json").json()
    assert "triage" in {g["agent"] for g in gates}
    assert re.search(r"^│ triage\s+│", cli("gates").out, re.M)
    depth = cli("depth", "--json").json()
    assert {d["tier"] for d in depth} >= {"single-domain", "multi-domain"}
    assert "p95 cycles" in cli("depth").out
    assert os.environ.get("NIGHTSHIFT_TOKEN") != cli.plane.token  # the env is the child's own
