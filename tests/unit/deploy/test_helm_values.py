"""The chart's values are compiled, never hand-written: one source of truth with `k8s render`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from nightshift.domain.actions import load_action_catalog
from nightshift.domain.agent_codec import identity_from
from nightshift.domain.vocabulary import TrustPhase
from nightshift.k8s.helm_values import ENVIRONMENTS, phase_values
from nightshift.k8s.manifests import RenderConfig

CHART = Path(__file__).resolve().parents[3] / "deploy" / "helm" / "nightshift"
WRITE_VERBS = {"create", "update", "patch", "delete", "deletecollection"}


def _generated(env: str, phase: TrustPhase) -> dict[str, Any]:
    raw = yaml.safe_load((CHART / "agents.example.yaml").read_text())
    identities = [identity_from(a) for a in raw["agents"]]
    return phase_values(env, phase, identities, load_action_catalog(), RenderConfig())


def _verbs(values: dict[str, Any]) -> set[str]:
    return {
        verb
        for agent in values["agents"]["rendered"].values()
        for obj in agent["objects"]
        if obj["kind"] in ("Role", "ClusterRole")
        for rule in obj["rules"]
        for verb in rule["verbs"]
    }


@pytest.mark.parametrize("env", ENVIRONMENTS)
@pytest.mark.parametrize("phase", list(TrustPhase))
def test_checked_in_values_file_is_what_the_compiler_renders(env: str, phase: TrustPhase) -> None:
    path = CHART / f"values-{env}-{phase.value}.yaml"
    assert yaml.safe_load(path.read_text()) == _generated(env, phase), (
        f"{path.name} differs from the compiler's output: run scripts/gen-helm-values"
    )


def test_shadow_values_only_read_and_limited_remediation_adds_the_approved_writes() -> None:
    shadow = _generated("production", TrustPhase.SHADOW)
    limited = _generated("production", TrustPhase.LIMITED_REMEDIATION)
    assert _verbs(shadow) <= {"get", "list", "watch"}
    assert {"delete", "patch"} <= _verbs(limited) & WRITE_VERBS
    assert shadow["vault"]["policy"] == "nightshift-phase-shadow"
    assert limited["vault"]["policy"] == "nightshift-phase-limited-remediation"


def test_unknown_environment_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="unknown environment 'qa'"):
        _generated("qa", TrustPhase.SHADOW)
