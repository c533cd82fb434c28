"""Remediation actions change the world; only the ground-truth fix removes the symptoms."""

from __future__ import annotations

from typing import Any

import pytest

from nightshift.agent.tools.protocol import ToolCall, ToolResult
from nightshift.domain.actions import load_action_catalog
from nightshift.domain.diagnosis import ResourceRef
from nightshift.scenarios import SimulatedWorld, list_scenarios, load_scenario
from nightshift.scenarios.actions import HANDLERS
from nightshift.scenarios.actions_catalog import ACTION_TYPES, normalize_action

SHIPPED = [info.name for info in list_scenarios()]


def ask(world: SimulatedWorld, tool: str, **params: Any) -> ToolResult:
    return world.call_sync(ToolCall(tool, params))


def _truth_call(name: str) -> tuple[str, str, dict[str, Any]]:
    fix = load_scenario(name).ground_truth.remediation[0]
    params: dict[str, Any] = {}
    for key, value in fix.params.items():
        params[key] = value.get("max", value.get("min")) if isinstance(value, dict) else value
    if fix.namespace:
        params["namespace"] = fix.namespace
    return fix.action, fix.target, params


@pytest.mark.parametrize("name", SHIPPED)
def test_ground_truth_action_removes_the_symptoms(name: str) -> None:
    world = SimulatedWorld(name)
    assert world.symptoms_present()
    action, target, params = _truth_call(name)
    outcome = world.apply_action(action, target, params)
    assert outcome.ok and outcome.fixes_root_cause
    assert not outcome.symptoms_present
    assert not world.symptoms_present()
    assert any(not a.symptom for a in world.state.alerts), "red herrings keep firing"


@pytest.mark.parametrize("name", SHIPPED)
def test_dry_run_changes_nothing(name: str) -> None:
    world = SimulatedWorld(name)
    before = world.state.model_dump_json()
    action, target, params = _truth_call(name)
    outcome = world.apply_action(action, target, params, dry_run=True)
    assert outcome.ok and outcome.dry_run and outcome.fixes_root_cause
    assert outcome.symptoms_present
    assert world.state.model_dump_json() == before


def test_restarting_a_crashlooping_pod_does_not_fix_an_oom(ledger: SimulatedWorld) -> None:
    outcome = ledger.apply_action(
        "restart-pod", "pod/ledger-worker-6b7c9d4f8d-9xwq2", {"namespace": "finance"}
    )
    assert outcome.ok and outcome.message == 'pod "ledger-worker-6b7c9d4f8d-9xwq2" deleted'
    assert not outcome.fixes_root_cause and outcome.symptoms_present
    pods = ask(ledger, "kubectl_get", kind="pods", namespace="finance").text
    assert "ledger-worker-6b7c9d4f8d-9xwq2" not in pods
    assert "CrashLoopBackOff" in pods  # the replacement has the same problem


def test_wrong_action_on_the_cascade_leaves_the_storm(cascade: SimulatedWorld) -> None:
    outcome = cascade.apply_action(
        "scale-deployment", "deployment/checkout-api", {"namespace": "shop", "replicas": 20}
    )
    assert outcome.ok and not outcome.fixes_root_cause
    assert len([a for a in cascade.state.alerts if a.symptom]) > 250


def test_harmful_action_makes_things_worse(cascade: SimulatedWorld) -> None:
    outcome = cascade.apply_action(
        "restart-deployment", "deployment/pgbouncer", {"namespace": "data"}
    )
    assert outcome.ok and not outcome.fixes_root_cause
    assert "PgBouncerDown" in ask(cascade, "list_alerts", domain="database").text


def test_rollback_returns_to_the_previous_template(ledger: SimulatedWorld) -> None:
    ledger.apply_action(
        "rollback-deployment", ResourceRef("Deployment", "ledger-worker", "finance")
    )
    history = ask(ledger, "kubectl_rollout_history", name="ledger-worker", namespace="finance").text
    assert history.splitlines()[-1].split()[0] == "15"
    pods = ask(
        ledger, "kubectl_get", kind="pods", namespace="finance", label_selector="app=ledger-worker"
    ).text
    assert pods.count("ledger-worker-5d8f7c6b94-") == 3 and "CrashLoopBackOff" not in pods


def test_rollback_without_history_is_refused() -> None:
    world = SimulatedWorld("partner-sync-not-starting")
    outcome = world.apply_action(
        "rollback-deployment", "deployment/partner-sync", {"namespace": "partner-integrations"}
    )
    assert not outcome.ok and "no rollout history" in outcome.message


def test_cordon_and_uncordon_are_visible(ledger: SimulatedWorld) -> None:
    node = "ip-10-0-11-84.eu-west-1.compute.internal"
    assert ledger.apply_action("cordon-node", f"node/{node}").message == f"node/{node} cordoned"
    assert "Ready,SchedulingDisabled" in ask(ledger, "kubectl_get", kind="nodes").text
    ledger.apply_action("uncordon-node", f"node/{node}")
    assert "SchedulingDisabled" not in ask(ledger, "kubectl_get", kind="nodes").text


def test_scaling_down_removes_unscheduled_pods_first() -> None:
    world = SimulatedWorld("month-end-reports-pending")
    world.apply_action(
        "scale-deployment", "deployment/report-builder", {"namespace": "analytics", "replicas": 6}
    )
    text = ask(world, "kubectl_get", kind="pods", namespace="analytics").text
    assert "Pending" not in text and text.count("Running") == 6
    assert not world.symptoms_present()


def test_scaling_too_little_is_not_the_fix() -> None:
    world = SimulatedWorld("month-end-reports-pending")
    outcome = world.apply_action(
        "scale-deployment", "deployment/report-builder", {"namespace": "analytics", "replicas": 9}
    )
    assert outcome.ok and not outcome.fixes_root_cause and world.symptoms_present()


def test_actions_are_recorded_in_the_change_log(cascade: SimulatedWorld) -> None:
    cascade.apply_action("revert-firewall-rule", "change/CHG-20417")
    assert "nightshift-remediation" in ask(cascade, "recent_changes", since_minutes=5).text


def test_unknown_action_and_target_are_refused(cascade: SimulatedWorld) -> None:
    assert not cascade.apply_action("reboot-datacentre", "dc/1").ok
    missing = cascade.apply_action("restart-pod", "pod/nope", {"namespace": "shop"})
    assert not missing.ok
    assert missing.message == 'Error from server (NotFound): pods "nope" not found'


def test_loaded_scenario_is_not_mutated_by_actions() -> None:
    scenario = load_scenario("two-am-cascade")
    before = scenario.model_dump_json()
    SimulatedWorld(scenario).apply_action("revert-firewall-rule", "change/CHG-20417")
    assert scenario.model_dump_json() == before


def test_worlds_sharing_a_scenario_do_not_see_each_others_actions() -> None:
    """The state is shared with the scenario until the first action (copy on write)."""
    scenario = load_scenario("two-am-cascade")
    fixed, other = SimulatedWorld(scenario), SimulatedWorld(scenario)
    before = ask(other, "list_alerts").text
    assert fixed.apply_action("revert-firewall-rule", "change/CHG-20417").ok
    assert not fixed.symptoms_present()
    assert other.symptoms_present()
    assert ask(other, "list_alerts").text == before
    assert ask(fixed, "list_alerts").text != before


def test_undoing_the_fix_brings_the_symptoms_back(cascade: SimulatedWorld) -> None:
    fix = cascade.apply_action("revert-firewall-rule", ResourceRef("Change", "CHG-20417"))
    assert fix.fixes_root_cause and not cascade.symptoms_present()
    undo = cascade.apply_action("revert-firewall-rule", ResourceRef("Change", "CHG-20417"))
    assert undo.ok and not undo.fixes_root_cause
    assert cascade.symptoms_present()
    assert "CHG-20417" in ask(cascade, "firewall_rules", target="10.0.0.0/16").text
    assert "undoes the previous action" in ask(cascade, "recent_changes", since_minutes=5).text


def test_scaling_back_restores_the_previous_world() -> None:
    world = SimulatedWorld("etl-workers-missing")
    ref = ResourceRef("Deployment", "locust-worker", "data-eng")
    assert world.apply_action("scale-deployment", ref, {"replicas": 0}).fixes_root_cause
    world.apply_action("scale-deployment", ref, {"replicas": 10})
    assert world.symptoms_present()
    assert (
        "locust-worker       10/10"
        in ask(world, "kubectl_get", kind="deploy", namespace="data-eng").text
    )


def test_resource_refs_name_the_culprit_in_any_spelling(cascade: SimulatedWorld) -> None:
    outcome = cascade.apply_action("revert_firewall_rule", ResourceRef("FirewallRule", "120"))
    assert outcome.ok and outcome.fixes_root_cause


def test_every_catalog_action_has_exactly_one_handler_in_the_simulated_world() -> None:
    assert set(HANDLERS) == set(ACTION_TYPES)
    # listed once: the world's names are the domain catalog's (actions.yaml)
    assert set(ACTION_TYPES) == {spec.name for spec in load_action_catalog()}


@pytest.mark.parametrize(
    "spelling",
    ["revert-firewall-change", "rollout-restart", "delete-pod", "rollback", "Cordon_Node"],
)
def test_every_accepted_spelling_names_a_catalog_action(spelling: str) -> None:
    assert normalize_action(spelling) in ACTION_TYPES
