"""The action catalog is data, validated, and carries every column policy needs."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from nightshift.domain.actions import (
    BlastRadius,
    CatalogError,
    RiskClass,
    load_action_catalog,
    parse_action_catalog,
)
from nightshift.domain.taxonomy import load_taxonomy
from nightshift.domain.vocabulary import AuthorityClass, TrustPhase

REQUIRED = {
    "restart-pod",
    "clear-cache",
    "scale-deployment",
    "rollback-deployment",
    "cordon-node",
    "uncordon-node",
    "revert-firewall-rule",
}
# Remediation classes the catalog uses that the taxonomy does not define yet.
PENDING_TAXONOMY_CLASSES: set[str] = set()


def document() -> dict[str, Any]:
    from importlib import resources

    text = resources.files("nightshift.domain").joinpath("actions.yaml").read_text("utf-8")
    return dict(yaml.safe_load(text))


def test_catalog_holds_the_required_actions() -> None:
    assert {a.name for a in load_action_catalog()} >= REQUIRED


def test_every_inverse_exists_and_reverses_back() -> None:
    catalog = load_action_catalog()
    assert catalog.actions["cordon-node"].inverse == "uncordon-node"
    assert catalog.actions["uncordon-node"].inverse == "cordon-node"
    for spec in catalog:
        assert spec.reversible == (spec.inverse is not None)
        if spec.inverse:
            assert spec.inverse in catalog


def test_high_risk_actions_never_auto_execute() -> None:
    for spec in load_action_catalog():
        if spec.risk is RiskClass.HIGH:
            assert spec.auto_execute is None, spec.name


def test_auto_execution_needs_autonomous_l1_and_the_autonomous_class() -> None:
    for spec in load_action_catalog():
        if spec.auto_execute is not None:
            assert spec.auto_execute.min_phase is TrustPhase.AUTONOMOUS_L1
            assert not spec.auto_execute.met_by(AuthorityClass.SUPERVISED, TrustPhase.AUTONOMOUS_L1)


def test_scopes_are_pod_deployment_node_or_rule() -> None:
    scopes = {spec.scope for spec in load_action_catalog()}
    assert scopes == set(BlastRadius)


def test_remediation_classes_come_from_the_taxonomy() -> None:
    known = set(load_taxonomy().remediation_classes) | PENDING_TAXONOMY_CLASSES
    for spec in load_action_catalog():
        assert spec.remediation_classes <= known, spec.name


def test_actions_implementing_a_remediation_class_lowest_risk_first() -> None:
    names = [a.name for a in load_action_catalog().implementing("add-resources")]
    assert names == ["scale-deployment"]


def _broken(mutate: Any) -> dict[str, Any]:
    doc = copy.deepcopy(document())
    mutate(doc)
    return doc


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["actions"][0].pop("risk"), "lacks"),
        (lambda d: d["actions"][0].update(risk="extreme"), "extreme"),
        (lambda d: d["actions"][0].update(color="red"), "unknown fields"),
        (lambda d: d["actions"].append(dict(d["actions"][0])), "duplicate"),
        (lambda d: d["actions"][4].update(inverse="teleport-node"), "missing inverse"),
        (lambda d: d["actions"][0].update(reversible=True), "inverse"),
        (
            lambda d: d["actions"][0].update(
                auto_execute={"class": "autonomous", "phase": "assist"}
            ),
            "auto_execute",
        ),
        (lambda d: d["actions"][0].update(propose={"class": "root", "phase": "assist"}), "root"),
        (lambda d: d["actions"][0].update(remediation_classes=[]), "at least one"),
        (lambda d: d.update(version="one"), "semver"),
        (lambda d: d.update(actions=[]), "no actions"),
    ],
)
def test_malformed_catalog_is_refused(mutate: Any, message: str) -> None:
    with pytest.raises(CatalogError, match=message):
        parse_action_catalog(_broken(mutate))
