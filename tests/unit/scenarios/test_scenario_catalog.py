"""Every shipped scenario is valid, realistic practice and names taxonomy faults."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import nightshift.domain
from nightshift.domain.vocabulary import Domain, Tier
from nightshift.scenarios import SimulatedWorld, list_scenarios, load_scenario
from nightshift.scenarios.cluster import pod_template
from nightshift.scenarios.quantity import cpu_millis, memory_bytes

SHIPPED = [info.name for info in list_scenarios()]
TAXONOMY = Path(nightshift.domain.__file__).parent / "taxonomy.yaml"


def _taxonomy_ids() -> set[str]:
    doc = yaml.safe_load(TAXONOMY.read_text(encoding="utf-8"))
    return {str(fault["id"]) for fault in doc["faults"]}


def test_at_least_sixteen_scenarios_ship() -> None:
    assert len(SHIPPED) >= 16


def test_scenarios_cover_all_five_domains_and_both_tiers() -> None:
    infos = list_scenarios()
    assert {d for info in infos for d in info.domains} == set(Domain)
    assert {info.tier for info in infos} == set(Tier)


def test_listing_names_match_file_names() -> None:
    for info in list_scenarios():
        assert info.path.stem == info.name


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_scenario_loads_and_validates(name: str) -> None:
    scenario = load_scenario(name)
    assert scenario.metadata.name == name
    assert scenario.pods, "a scenario without pods cannot be investigated with kubectl"


@pytest.mark.parametrize("name", SHIPPED)
def test_scenario_has_symptoms_and_red_herrings(name: str) -> None:
    alerts = load_scenario(name).alerts
    assert any(a.symptom for a in alerts)
    assert any(not a.symptom for a in alerts), "every scenario needs unrelated noisy alerts"


@pytest.mark.parametrize("name", SHIPPED)
def test_ground_truth_faults_exist_in_the_taxonomy(name: str) -> None:
    ids = _taxonomy_ids()
    truth = load_scenario(name).ground_truth
    assert truth.fault in ids
    assert set(truth.alternative_faults) <= ids


@pytest.mark.parametrize("name", SHIPPED)
def test_scenario_names_do_not_give_the_fault_away(name: str) -> None:
    fault_words = set(load_scenario(name).ground_truth.fault.split("-")) - {"db", "change"}
    assert not fault_words & set(name.split("-")), f"{name} names its own fault"


def test_loading_twice_gives_identical_worlds() -> None:
    first = load_scenario("two-am-cascade").model_dump_json()
    assert load_scenario("two-am-cascade").model_dump_json() == first


@pytest.mark.parametrize("name", SHIPPED)
def test_no_node_is_asked_for_more_than_it_can_allocate(name: str) -> None:
    world = SimulatedWorld(name)
    for node in world.state.nodes:
        allocatable = node.allocatable or node.capacity
        requested = [
            c.resources.requests
            for pod in world.state.pods
            if pod.node == node.name
            for c in pod_template(world.state, pod).containers
        ]
        cpu = sum(cpu_millis(r.get("cpu", "0")) for r in requested)
        memory = sum(memory_bytes(r.get("memory", "0")) for r in requested)
        assert cpu <= cpu_millis(allocatable["cpu"]), node.name
        assert memory <= memory_bytes(allocatable["memory"]), node.name
