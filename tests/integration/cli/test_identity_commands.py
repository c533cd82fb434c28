"""Users, tokens, agents and their governance, the kill switch, the review
queue, the database, secrets and rendering: each command run as the installed
``nightshift`` script against a real ``nightshift up``."""

from __future__ import annotations

import re
import signal
import subprocess
import time
from urllib.parse import urlsplit

import httpx
import pytest

from nightshift.domain.actions import load_action_catalog
from tests.integration.cli.conftest import ALL_DOMAINS, NIGHTSHIFT, Cli
from tests.support.postgres import free_port

pytestmark = pytest.mark.slow
EXIT_FAILED, EXIT_USAGE, EXIT_API = 1, 2, 4


def _domains() -> list[str]:
    return [arg for d in ALL_DOMAINS for arg in ("--domain", d)]


def test_scenarios_lists_the_installed_ones(cli: Cli) -> None:
    table = cli("scenarios").out
    assert "two-am-cascade" in table
    listed = cli("scenarios", "--json").json()
    assert "two-am-cascade" in {s["name"] for s in listed}


def test_users_and_tokens(cli: Cli) -> None:
    created = cli("users", "create", "alice", "--role", "operator", "--contact", "a@example.org")
    assert "created human alice with roles operator" in created.out
    again = cli(
        "users",
        "create",
        "alice",
        "--role",
        "operator",
        "--contact",
        "a@example.org",
        expect=EXIT_API,
    )
    assert "alice" in again.err
    assert re.search(r"^│ alice\s+│ human\s+│ operator", cli("users", "list").out, re.M)
    token = cli("tokens", "create", "--user", "alice").out.strip()
    assert token.startswith("nsh_") and "\n" not in token
    assert cli("investigations", "list", "--json", token=token).json()["items"] == []
    # users deactivate / activate act through the API (activate answers 204).
    gone = cli("users", "deactivate", "alice", "--reason", "left the team")
    assert "deactivated alice; suspended agents: none" in gone.out
    cli("investigations", "list", token=token, expect=EXIT_API)
    assert cli("users", "activate", "alice").out.strip() == "activated alice"
    cli("investigations", "list", token=token)
    # a one-time console link for her: it signs in once, on the real server
    link = urlsplit(cli("users", "sign-in-link", "alice", "--to", "/approvals").out.strip())
    assert link.path == "/login/link" and "secret=" in link.query
    url = f"{cli.plane.url}{link.path}?{link.query}"
    first = httpx.get(url, follow_redirects=False, timeout=10)
    assert first.status_code == 303 and first.headers["location"] == "/approvals"
    assert "nightshift_console" in first.headers["set-cookie"]
    assert httpx.get(url, follow_redirects=False, timeout=10).status_code == 401
    cli("users", "sign-in-link", "alice", "--to", "//evil.example", expect=2)


def test_register_list_and_steward_an_agent(cli: Cli) -> None:
    got = cli(
        "agents",
        "register",
        "steward-bot",
        "--owner",
        "oncall",
        "--class",
        "supervised",
        *_domains(),
        "--namespace",
        "*",
    )
    assert "registered steward-bot: owner oncall, class supervised, phase shadow" in got.out
    bare = cli("agents", "register", "bare-bot", "--owner", "oncall", "--class", "advisory")
    assert "no domains/namespaces granted" in bare.out
    listed = {a["name"]: a for a in cli("agents", "list", "--json").json()}
    assert listed["steward-bot"]["owner"] == "oncall"
    assert re.search(r"^│ steward-bot\s+│ oncall\s+│ supervised", cli("agents", "list").out, re.M)

    cli("users", "create", "heir", "--role", "operator", "--contact", "heir@example.org")
    # Every one of these answers 204 No Content; the CLI reports success.
    assert cli.lead("agents", "suspend", "steward-bot", "--reason", "audit").out.strip() == (
        "steward-bot suspended"
    )
    status = {a["name"]: a["status"] for a in cli("agents", "list", "--json").json()}
    assert status["steward-bot"] == "suspended"
    assert cli.lead("agents", "resume", "steward-bot").out.strip() == "steward-bot resumed"
    moved = cli.lead("agents", "transfer", "steward-bot", "--to", "heir", "--reason", "rota")
    assert moved.out.strip() == "steward-bot is now owned by heir"
    after = {a["name"]: a for a in cli("agents", "list", "--json").json()}
    assert after["steward-bot"]["owner"] == "heir"
    assert after["steward-bot"]["status"] == "active"
    narrowed = cli.lead(
        "agents",
        "boundaries",
        "steward-bot",
        "--domain",
        "application",
        "--namespace",
        "shop",
        "--max-depth",
        "3",
    )
    assert narrowed.out.strip() == "boundaries of steward-bot updated"
    refused = cli.lead("agents", "boundaries", "steward-bot", "--max-depth", "99", expect=EXIT_API)
    assert "422" in refused.err and "max_depth" in refused.err


def test_thresholds_show_and_partial_update(cli: Cli) -> None:
    cli("agents", "register", "gauge-bot", "--owner", "oncall", "--class", "supervised")
    shown = cli("agents", "thresholds", "gauge-bot").json()
    assert shown["to_assist"]["min_sample"] == 100
    changed = cli.lead(
        "agents",
        "thresholds",
        "gauge-bot",
        "--from-file",
        cli.file("t.json", {"to_assist": {"min_sample": 3}}),
    )
    assert changed.out.startswith("thresholds of gauge-bot updated")
    after = cli("agents", "thresholds", "gauge-bot").json()
    assert after["to_assist"]["min_sample"] == 3
    assert after["to_assist"]["min_success_rate"] == shown["to_assist"]["min_success_rate"]
    typo = cli.lead(
        "agents",
        "thresholds",
        "gauge-bot",
        "--from-file",
        cli.file("typo.json", {"auto_execute_confidenc": 0.9}),
        expect=EXIT_API,
    )
    assert "422" in typo.err and "auto_execute_confidenc" in typo.err
    cli.lead(
        "agents",
        "thresholds",
        "gauge-bot",
        "--from-file",
        cli.file("bad.json", "{"),
        expect=EXIT_USAGE,
    )


def test_model_configuration_set_and_clear(cli: Cli) -> None:
    cli("agents", "register", "llm-bot", "--owner", "oncall", "--class", "supervised")
    model = {"provider": "openai", "model": "small", "base_url": "http://127.0.0.1:9/v1"}
    got = cli.lead("agents", "llm", "llm-bot", "--from-file", cli.file("model.json", model))
    assert got.out.strip() == "model configuration of llm-bot updated"
    cleared = cli.lead("agents", "llm", "llm-bot", "--clear")
    assert cleared.out.strip() == "model configuration of llm-bot removed"
    cli.lead("agents", "llm", "llm-bot", expect=EXIT_USAGE)


def test_phases_gates_sign_off_promote_and_demotion_review(cli: Cli) -> None:
    # Every catalog action in its boundaries: its diagnosis' remediation proposal is then
    # in scope, so the only demotion below is the one the wrong outcome causes (an
    # out-of-scope request demotes on the next reconcile pass, promoted or not).
    actions = [a for spec in load_action_catalog() for a in ("--action", spec.name)]
    cli(
        "agents",
        "register",
        "rising-bot",
        "--owner",
        "oncall",
        "--class",
        "supervised",
        *_domains(),
        *actions,
        "--namespace",
        "*",
    )
    easy = {
        "to_assist": {
            "min_sample": 0,
            "min_success_rate": 0,
            "min_domains": 0,
            "max_unsafe_attempts": None,
        }
    }
    cli.lead("agents", "thresholds", "rising-bot", "--from-file", cli.file("easy.json", easy))
    gates = cli("agents", "gates", "rising-bot", "--json").json()
    assert gates["current"] == "shadow" and gates["target"] == "assist" and not gates["ready"]
    refused = cli.lead(
        "agents", "promote", "rising-bot", "--to", "assist", "--reason", "soon", expect=EXIT_API
    )
    assert "409" in refused.err and "diagnostic_accuracy" in refused.err
    # One scored investigation, judged correct, gives the accuracy the gate needs.
    inv = cli(
        "investigate", "--scenario", "two-am-cascade", "--agent", "rising-bot", "--json"
    ).json()["id"]
    cli("investigations", "events", inv, "--json", expect=0)
    cli(
        "verdict",
        "outcome",
        inv,
        "--category",
        "change",
        "--remediation-class",
        "revert-firewall-rule",
        "--fault",
        "firewall-rule-change",
        "--resource",
        "Change/CHG-20417",
    )
    table = cli("agents", "gates", "rising-bot").out
    assert "diagnostic_accuracy" in table and "missing sign-off by a ops-lead" in table
    signed = cli.lead(
        "agents", "sign-off", "rising-bot", "--target", "assist", "--role", "ops-lead"
    )
    assert signed.out.strip() == "signed rising-bot -> assist as ops-lead"
    promoted = cli.lead("agents", "promote", "rising-bot", "--to", "assist", "--reason", "earned")
    assert promoted.out.strip() == "rising-bot promoted to assist"
    history = cli("agents", "phases", "rising-bot", "--json").json()
    assert [h["kind"] for h in history] == ["registered", "promoted"]
    assert "promoted" in cli("agents", "phases", "rising-bot").out
    # A wrong outcome afterwards demotes it ...
    second = cli(
        "investigate", "--scenario", "two-am-cascade", "--agent", "rising-bot", "--json"
    ).json()["id"]
    cli("investigations", "events", second, "--json")
    cli(
        "verdict",
        "outcome",
        second,
        "--category",
        "network",
        "--remediation-class",
        "restart",
        "--fault",
        "dns-failure",
    )
    # ... on its own: the running control plane's reconcile loop demotes it.
    deadline = time.monotonic() + 30
    kinds: list[str] = []
    while time.monotonic() < deadline and "demoted" not in kinds:
        time.sleep(0.5)
        kinds = [h["kind"] for h in cli("agents", "phases", "rising-bot", "--json").json()]
    assert kinds == ["registered", "promoted", "demoted"], kinds
    reviewed = cli.lead("agents", "review-demotion", "rising-bot", "--reason", "looked at it")
    assert reviewed.out.strip() == "demotion of rising-bot reviewed"
    cli.lead("agents", "review-demotion", "rising-bot", expect=EXIT_API)  # nothing left to review


def test_kill_switch_engage_status_release(cli: Cli) -> None:
    engaged = cli.lead("kill-switch", "engage", "--agent", "triage", "--reason", "drill")
    assert "kill switch engaged (triage)" in engaged.out
    status = cli("kill-switch", "status").json()
    assert status["agents"] == ["triage"] and status["global_engaged"] is False
    released = cli.lead("kill-switch", "release", "--agent", "triage", "--reason", "drill over")
    assert released.out.strip() == "kill switch released (triage)"
    assert cli("kill-switch", "status").json()["agents"] == []


def test_alert_routes_add_list_remove(cli: Cli) -> None:
    added = cli.lead(
        "alerts",
        "routes",
        "add",
        "paging",
        "--agent",
        "triage",
        "--match",
        'severity=~"critical|page"',
        "--disabled",
    )
    assert added.out.startswith("route paging -> agent triage")
    cli.lead("alerts", "routes", "add", "paging", "--agent", "triage", expect=EXIT_API)
    replaced = cli.lead(
        "alerts",
        "routes",
        "add",
        "paging",
        "--agent",
        "triage",
        "--replace",
        "--match",
        "team=shop",
        "--json",
    ).json()
    assert replaced["matchers"] == ["team=shop"] and replaced["enabled"] is True
    assert re.search(r"^│ paging\s+│ on\s+│ team=shop", cli("alerts", "routes", "list").out, re.M)
    assert cli.lead("alerts", "routes", "remove", "paging").out.strip() == "removed route paging"
    assert cli("alerts", "routes", "list", "--json").json() == []
    cli.lead("alerts", "routes", "remove", "paging", expect=EXIT_API)


def test_review_queue_lists_items_with_whole_ids(cli: Cli) -> None:
    items = cli("reviews", "list", "--json").json()
    table = cli("reviews", "list").out
    for item in items:
        assert item["id"] in table
    cli("reviews", "list", "--kind", "demotion_review", "--json")


def test_db_upgrade_reports_the_revision(cli: Cli) -> None:
    assert cli("db", "upgrade").out.startswith("database at revision ")


def test_secrets_set_and_list(cli: Cli) -> None:
    stored = cli(
        "secrets",
        "set",
        "database",
        "--source",
        "orders",
        "--from-file",
        "-",
        stdin='{"username": "ro", "password": "s3cret-value"}',
    )
    assert "stored 2 value(s) for database/orders" in stored.out
    assert "s3cret-value" not in stored.out + stored.err
    listed = cli("secrets", "list").out.split()
    assert "database/orders" in listed
    cli("secrets", "set", "database", "--from-file", "-", stdin="[1]", expect=EXIT_USAGE)


def test_vault_policies_and_k8s_render(cli: Cli) -> None:
    policies = cli("vault", "policies").out
    assert 'path "' in policies and "capabilities" in policies
    rendered = cli("k8s", "render", "-o", "json").json()
    kinds = {o["kind"] for o in rendered["items"]}
    assert "ServiceAccount" in kinds
    names = {o["metadata"]["name"] for o in rendered["items"]}
    assert any("triage" in n for n in names)


def test_up_with_the_demo_saves_a_token_the_cli_uses(cli: Cli) -> None:
    data = cli.tmp / "demo-plane"
    port = free_port()
    env = cli.env(None)
    env.update(NIGHTSHIFT_DATA_DIR=str(data), NIGHTSHIFT_DATABASE_URL=f"sqlite:///{data / 'd.db'}")
    env.pop("NIGHTSHIFT_TOKEN")
    proc = subprocess.Popen(
        [NIGHTSHIFT, "up", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert time.monotonic() < deadline and proc.poll() is None, "demo server did not start"
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        assert (data / "cli-token").exists()
        env["NIGHTSHIFT_API_URL"] = f"http://127.0.0.1:{port}"
        done = subprocess.run(
            [NIGHTSHIFT, "agents", "gates", "triage", "--json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
    finally:
        proc.send_signal(signal.SIGTERM)
        output = proc.communicate(timeout=30)[0]
    assert "demo owner token (saved to" in output
