"""The worker's mapping from a diagnosis to catalog proposals, and the
simulated remediator's behaviour (no answer key read)."""

from __future__ import annotations

from nightshift.domain.actions import load_action_catalog
from nightshift.domain.diagnosis import Diagnosis, Outcome, ResourceRef, RootCause
from nightshift.runtime.proposal_drafts import propose_remediations
from nightshift.runtime.remediation.simulated import SimulatedRemediator
from nightshift.services.remediation_port import RemediationJob
from nightshift.worker_spec import simulated_source


def _cause(
    rank: int,
    kind: str,
    name: str,
    remediation: str,
    confidence: float,
    namespace: str | None = None,
) -> RootCause:
    return RootCause(
        rank,
        ResourceRef(kind, name, namespace),
        "fault-x",
        "change",
        "because",
        confidence,
        ("E1",),
        remediation,
    )


def _diagnosis(*causes: RootCause, outcome: Outcome = Outcome.DIAGNOSED) -> Diagnosis:
    return Diagnosis(outcome, causes, (), (), cycles=3, tool_calls=5)


def test_the_two_am_diagnosis_proposes_reverting_the_firewall_change() -> None:
    d = _diagnosis(
        _cause(1, "Change", "k8s-prod-to-dc", "revert-firewall-rule", 0.73),
        _cause(2, "Deployment", "pgbouncer", "fix-config", 0.55),  # no catalog action
        _cause(3, "Deployment", "pgbouncer", "rollback-change", 0.4),  # no namespace
    )
    [draft] = propose_remediations(d, load_action_catalog())
    body = draft.to_dict()
    assert (body["action"], body["target"]["name"], body["confidence"]) == (
        "revert-firewall-rule",
        "k8s-prod-to-dc",
        0.73,
    )
    assert body["evidence_ids"] == ["E1"]


def test_only_fitting_targets_and_leading_causes_are_proposed() -> None:
    d = _diagnosis(
        _cause(1, "Pod", "api-1", "restart-pod", 0.9, "shop"),
        _cause(2, "Deployment", "api", "restart-pod", 0.8, "shop"),
        _cause(3, "Deployment", "api", "add-resources", 0.8, "shop"),  # needs replicas
        _cause(4, "Deployment", "web", "rollback-change", 0.3, "shop"),  # below the floor
    )
    actions = [
        (x.action, x.root_cause.resource.name)
        for x in propose_remediations(d, load_action_catalog())
    ]
    assert actions == [("restart-pod", "api-1"), ("restart-deployment", "api")]


def test_one_resource_gets_one_fix_the_leading_causes() -> None:
    d = _diagnosis(
        _cause(1, "Change", "FW-3141", "rollback-change", 0.92),
        _cause(2, "Change", "FW-3141", "revert-firewall-rule", 0.58),  # a rival reading
    )
    drafts = propose_remediations(d, load_action_catalog())
    assert [(x.action, x.root_cause.resource.name) for x in drafts] == [
        ("revert-change", "FW-3141")
    ]


def test_an_escalating_diagnosis_proposes_nothing() -> None:
    d = _diagnosis(
        _cause(1, "Pod", "a", "restart-pod", 0.9, "shop"), outcome=Outcome.BREAKER_TRIPPED
    )
    assert propose_remediations(d, load_action_catalog()) == []


def test_the_simulated_world_keeps_state_per_investigation() -> None:
    sim = SimulatedRemediator()
    world = (simulated_source("two-am-cascade"),)
    change = ResourceRef("Change", "CHG-20417")
    fix = RemediationJob("i1", "revert-firewall-rule", change, sources=world)
    other = RemediationJob("i2", "revert-firewall-rule", change, sources=world)
    assert sim.dry_run(fix).ok and sim.symptoms_present(fix)
    assert sim.execute(fix).ok
    assert not sim.symptoms_present(fix)
    assert sim.symptoms_present(other)  # its own, untouched world


def test_the_simulated_world_refuses_investigations_without_a_scenario() -> None:
    sim = SimulatedRemediator()
    job = RemediationJob("i3", "restart-pod", ResourceRef("Pod", "x", "shop"))
    result = sim.execute(job)
    assert not result.ok and "scenario" in result.message
    assert sim.symptoms_present(job)  # never claims a fix it cannot observe
