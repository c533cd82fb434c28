"""A malformed scenario file is refused with an error naming the file and the field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from nightshift.scenarios import ScenarioError, SimulatedWorld, load_scenario

MINIMAL: dict[str, Any] = {
    "metadata": {
        "name": "tiny",
        "title": "Tiny",
        "description": "d",
        "tier": "single-domain",
        "domains": ["kubernetes"],
    },
    "trigger": {"kind": "alert", "alert": "KubePodCrashLooping", "summary": "s"},
    "deployments": [
        {
            "name": "web",
            "namespace": "shop",
            "template": {"labels": {"app": "web"}, "containers": [{"name": "web", "image": "w:1"}]},
        }
    ],
    "alerts": [
        {
            "name": "KubePodCrashLooping",
            "domain": "kubernetes",
            "target": "shop/web",
            "since": "5m",
            "summary": "crash",
        }
    ],
    "ground_truth": {
        "root_cause": {"kind": "Deployment", "name": "web", "namespace": "shop"},
        "fault": "crashloop-app-error",
        "summary": "s",
        "remediation": [{"action": "rollback-deployment", "target": "deployment/web"}],
    },
}


def _write(tmp_path: Path, doc: dict[str, Any], name: str = "broken.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return path


def test_minimal_scenario_file_loads_from_a_path(tmp_path: Path) -> None:
    scenario = load_scenario(_write(tmp_path, MINIMAL, "tiny.yaml"))
    assert [p.owner for p in scenario.pods] == ["deployment/web"]


def test_wrong_type_names_file_and_field_path(tmp_path: Path) -> None:
    doc = {**MINIMAL, "pods": [{"name": "p", "containers": [{"name": "c", "restarts": "many"}]}]}
    path = _write(tmp_path, doc)
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert str(path) in str(err.value)
    assert "pods[0].containers[0].restarts" in str(err.value)


def test_unknown_field_is_refused(tmp_path: Path) -> None:
    doc = {**MINIMAL, "alerts": [{**MINIMAL["alerts"][0], "sevrity": "critical"}]}
    with pytest.raises(ScenarioError, match=r"alerts\[0\]\.sevrity"):
        load_scenario(_write(tmp_path, doc))


def test_bad_duration_explains_the_format(tmp_path: Path) -> None:
    doc = {**MINIMAL, "alerts": [{**MINIMAL["alerts"][0], "since": "five minutes"}]}
    with pytest.raises(ScenarioError, match=r"alerts\[0\]\.since.*'12m'"):
        load_scenario(_write(tmp_path, doc))


def test_invalid_yaml_is_reported_with_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("metadata: [unclosed\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="not valid YAML"):
        load_scenario(path)


def test_unknown_scenario_name_lists_the_shipped_ones() -> None:
    with pytest.raises(ScenarioError, match="two-am-cascade"):
        load_scenario("no-such-scenario")


def test_unknown_remediation_action_is_refused(tmp_path: Path) -> None:
    truth = {**MINIMAL["ground_truth"], "remediation": [{"action": "reboot-dc", "target": "x"}]}
    with pytest.raises(ScenarioError, match=r"ground_truth\.remediation\[0\]\.action"):
        load_scenario(_write(tmp_path, {**MINIMAL, "ground_truth": truth}))


def test_trigger_must_name_a_firing_alert(tmp_path: Path) -> None:
    doc = {**MINIMAL, "trigger": {"kind": "alert", "alert": "Nope", "summary": "s"}}
    with pytest.raises(ScenarioError, match=r"trigger\.alert"):
        load_scenario(_write(tmp_path, doc))


def test_duplicate_objects_are_refused(tmp_path: Path) -> None:
    doc = {**MINIMAL, "deployments": MINIMAL["deployments"] * 2}
    with pytest.raises(ScenarioError, match=r"deployments\[1\].*duplicate"):
        load_scenario(_write(tmp_path, doc))


def test_pod_owner_must_exist(tmp_path: Path) -> None:
    doc = {**MINIMAL, "pods": [{"name": "p", "namespace": "shop", "owner": "deployment/api"}]}
    with pytest.raises(ScenarioError, match=r"pods\[0\]\.owner"):
        load_scenario(_write(tmp_path, doc))


def test_unknown_base_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="field 'base'"):
        load_scenario(_write(tmp_path, {**MINIMAL, "base": "mars-cluster"}))


def test_the_documented_example_scenario_loads_and_its_fix_works(tmp_path: Path) -> None:
    docs = Path(__file__).parents[3] / "docs" / "scenarios.md"
    text = docs.read_text(encoding="utf-8").split("A minimal complete file:", 1)[1]
    example = text.split("```yaml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "web-restarting.yaml"
    path.write_text(example, encoding="utf-8")
    world = SimulatedWorld(load_scenario(path))
    assert world.symptoms_present()
    outcome = world.apply_action("rollback-deployment", "deployment/web", {"namespace": "shop"})
    assert outcome.fixes_root_cause and not world.symptoms_present()
