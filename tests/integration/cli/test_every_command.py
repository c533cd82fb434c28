"""Every command of ``nightshift`` has a test that runs it: the mapping below
is checked against the commands the Typer app registers, so a new command
without a test fails here. Commands that need a Kubernetes API server are
run by the Kubernetes suite against a real kube-apiserver."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from nightshift.cli.main import app

ROOT = Path(__file__).resolve().parents[3]
IDENTITY = "tests/integration/cli/test_identity_commands.py"
WORK = "tests/integration/cli/test_investigation_commands.py"
K8S = "tests/integration/k8s/test_cli.py"
CHANGES = "tests/integration/cli/test_change_commands.py"
PROMOTION = (
    "tests/integration/cli/test_promotion_commands.py"
    "::test_promote_writes_one_commit_after_the_gates_and_the_automatic_demotion_its_own"
)
ALERTS = "tests/integration/alerts/test_alert_intake.py"
MCP = "tests/integration/mcp/test_nightshift_mcp_server.py"
GATEWAY = (
    "tests/integration/mcp/test_gateway_cli.py"
    "::test_an_agent_runs_the_stdio_gateway_with_a_cli_issued_token"
)

COVERED_BY: dict[str, str] = {
    "up": f"{IDENTITY}::test_up_with_the_demo_saves_a_token_the_cli_uses",
    "mcp serve": f"{MCP}::test_over_stdio_it_acts_as_the_token_it_was_started_with",
    "gateway serve": GATEWAY,
    "gateway token": GATEWAY,
    "gateway revoke": GATEWAY,
    "scenarios": f"{IDENTITY}::test_scenarios_lists_the_installed_ones",
    "db upgrade": f"{IDENTITY}::test_db_upgrade_reports_the_revision",
    "users create": f"{IDENTITY}::test_users_and_tokens",
    "users list": f"{IDENTITY}::test_users_and_tokens",
    "users deactivate": f"{IDENTITY}::test_users_and_tokens",
    "users activate": f"{IDENTITY}::test_users_and_tokens",
    "tokens create": f"{IDENTITY}::test_users_and_tokens",
    "users sign-in-link": f"{IDENTITY}::test_users_and_tokens",
    "agents register": f"{IDENTITY}::test_register_list_and_steward_an_agent",
    "agents list": f"{IDENTITY}::test_register_list_and_steward_an_agent",
    "agents transfer": f"{IDENTITY}::test_register_list_and_steward_an_agent",
    "agents suspend": f"{IDENTITY}::test_register_list_and_steward_an_agent",
    "agents resume": f"{IDENTITY}::test_register_list_and_steward_an_agent",
    "agents boundaries": f"{IDENTITY}::test_register_list_and_steward_an_agent",
    "agents thresholds": f"{IDENTITY}::test_thresholds_show_and_partial_update",
    "agents llm": f"{IDENTITY}::test_model_configuration_set_and_clear",
    "agents phases": f"{IDENTITY}::test_phases_gates_sign_off_promote_and_demotion_review",
    "agents gates": f"{IDENTITY}::test_phases_gates_sign_off_promote_and_demotion_review",
    "agents sign-off": f"{IDENTITY}::test_phases_gates_sign_off_promote_and_demotion_review",
    "agents promote": f"{IDENTITY}::test_phases_gates_sign_off_promote_and_demotion_review",
    "promote": PROMOTION,
    "demote": PROMOTION,
    "agents review-demotion": f"{IDENTITY}::test_phases_gates_sign_off_promote_and_demotion_review",
    "kill-switch engage": f"{IDENTITY}::test_kill_switch_engage_status_release",
    "kill-switch status": f"{IDENTITY}::test_kill_switch_engage_status_release",
    "kill-switch release": f"{IDENTITY}::test_kill_switch_engage_status_release",
    "reviews list": f"{IDENTITY}::test_review_queue_lists_items_with_whole_ids",
    "secrets set": f"{IDENTITY}::test_secrets_set_and_list",
    "secrets list": f"{IDENTITY}::test_secrets_set_and_list",
    "vault policies": f"{IDENTITY}::test_vault_policies_and_k8s_render",
    "k8s render": f"{IDENTITY}::test_vault_policies_and_k8s_render",
    "k8s apply": f"{K8S}::test_apply_then_drift_reports_and_fixes_a_hand_widened_role",
    "k8s drift": f"{K8S}::test_apply_then_drift_reports_and_fixes_a_hand_widened_role",
    "investigate": f"{WORK}::test_investigate_follow_list_show_events_logs",
    "investigations list": f"{WORK}::test_investigate_follow_list_show_events_logs",
    "investigations show": f"{WORK}::test_investigate_follow_list_show_events_logs",
    "investigations events": f"{WORK}::test_investigate_follow_list_show_events_logs",
    "investigations logs": f"{WORK}::test_investigate_follow_list_show_events_logs",
    "investigations cancel": f"{WORK}::test_cancel_a_held_investigation",
    "agent run": f"{WORK}::test_agent_run_refuses_to_start_without_its_token",
    "approvals list": f"{WORK}::test_approvals_approve_rollback_and_reject",
    "approvals show": f"{WORK}::test_approvals_approve_rollback_and_reject",
    "approvals approve": f"{WORK}::test_approvals_approve_rollback_and_reject",
    "approvals reject": f"{WORK}::test_approvals_approve_rollback_and_reject",
    "approvals rollback": f"{WORK}::test_approvals_approve_rollback_and_reject",
    "verdict accept": f"{WORK}::test_verdicts_judge_a_diagnosis_and_record_the_outcome",
    "verdict reject": f"{WORK}::test_verdicts_judge_a_diagnosis_and_record_the_outcome",
    "verdict modify": f"{WORK}::test_verdicts_judge_a_diagnosis_and_record_the_outcome",
    "verdict outcome": f"{WORK}::test_verdicts_judge_a_diagnosis_and_record_the_outcome",
    "verdict list": f"{WORK}::test_verdicts_judge_a_diagnosis_and_record_the_outcome",
    "escalations list": f"{WORK}::test_escalations_list_show_ack_resolve",
    "escalations show": f"{WORK}::test_escalations_list_show_ack_resolve",
    "escalations ack": f"{WORK}::test_escalations_list_show_ack_resolve",
    "escalations resolve": f"{WORK}::test_escalations_list_show_ack_resolve",
    "shadow-reviews list": f"{WORK}::test_shadow_reviews_list_show_done",
    "shadow-reviews show": f"{WORK}::test_shadow_reviews_list_show_done",
    "shadow-reviews done": f"{WORK}::test_shadow_reviews_list_show_done",
    "audit verify": f"{WORK}::test_audit_verify_and_explain",
    "audit explain": f"{WORK}::test_audit_verify_and_explain",
    "audit anchor": "tests/integration/security/test_audit_anchor.py::"
    "test_anchor_signs_the_head_outside_the_database",
    "changes post": f"{CHANGES}::test_a_change_sender_posts_an_object_and_a_free_form_change",
    "changes list": f"{CHANGES}::test_list_shows_the_feed_newest_first_and_filters",
    "alerts list": f"{ALERTS}::test_a_webhook_starts_one_worker_and_replays_start_nothing",
    "alerts show": f"{ALERTS}::test_a_webhook_starts_one_worker_and_replays_start_nothing",
    "alerts routes add": f"{IDENTITY}::test_alert_routes_add_list_remove",
    "alerts routes list": f"{IDENTITY}::test_alert_routes_add_list_remove",
    "alerts routes remove": f"{IDENTITY}::test_alert_routes_add_list_remove",
    "costs": f"{WORK}::test_costs_gates_depth",
    "gates": f"{WORK}::test_costs_gates_depth",
    "depth": f"{WORK}::test_costs_gates_depth",
}


def registered() -> Iterator[tuple[str, ...]]:
    """Every leaf command as its words, as ``nightshift --help`` lists them."""

    def walk(cmd: object, path: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
        subs = getattr(cmd, "commands", None)
        if subs:
            for name, sub in subs.items():
                yield from walk(sub, (*path, name))
        else:
            yield path

    yield from walk(get_command(app), ())


def _tests_in(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}


def test_every_registered_command_has_a_test_that_runs_it() -> None:
    commands = {" ".join(words) for words in registered()}
    assert len(commands) > 50  # the walk found the sub-apps
    assert sorted(commands - set(COVERED_BY)) == [], "commands without a test"
    assert sorted(set(COVERED_BY) - commands) == [], "tests for commands that do not exist"
    for command, target in COVERED_BY.items():
        file, _, test = target.partition("::")
        assert test in _tests_in(ROOT / file), f"{command}: {target} does not exist"
        source = (ROOT / file).read_text()
        # The test actually spells the command's words (for the k8s suite, its sub-command).
        last = command.split()[-1]
        assert re.search(rf'"{re.escape(last)}"', source), f"{command}: not invoked in {file}"


@pytest.mark.parametrize("words", sorted(registered()), ids=" ".join)
def test_flags_are_shown_as_flags(words: tuple[str, ...]) -> None:
    shown = CliRunner().invoke(app, [*words, "--help"], env={"COLUMNS": "200", "NO_COLOR": "1"})
    assert shown.exit_code == 0, shown.output
    for line in shown.output.splitlines():
        if "<bool>" in line:
            # Typer's own --help is the one flag whose rendering is not ours.
            assert "--help" in line, f"{' '.join(words)}: a flag reads as taking a value: {line}"
