"""The simulated scenario corpus, loaded through ``nightshift.scenarios``.

The scenario package is written in parallel; this module only relies on a
small surface and skips gracefully (with a message) when it is absent.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from nightshift.agent.request import InvestigationRequest
from nightshift.agent.tools.protocol import Toolset
from nightshift.domain.diagnosis import Diagnosis
from nightshift.domain.vocabulary import Domain, Tier


@dataclass(frozen=True, slots=True)
class ScenarioCase:
    name: str
    request: InvestigationRequest
    toolset: Toolset
    faults: frozenset[str]  # ground-truth fault ids (any counts as a hit)
    tier: str


def load_scenarios() -> tuple[list[ScenarioCase], str]:
    """(cases, message). An empty list with a reason when not available yet."""
    try:
        mod: Any = importlib.import_module("nightshift.scenarios")
    except ImportError as exc:
        return [], f"nightshift.scenarios not importable: {exc}"
    names = getattr(mod, "list_scenarios", None)
    load = getattr(mod, "load_scenario", None)
    world = getattr(mod, "SimulatedWorld", None)
    if not (callable(names) and callable(load) and callable(world)):
        return (
            [],
            "nightshift.scenarios does not expose list_scenarios/load_scenario/SimulatedWorld yet",
        )
    cases: list[ScenarioCase] = []
    problems: list[str] = []
    for info in names():
        try:
            scenario = load(info.name)
        except Exception as exc:  # a broken scenario file is reported, not fatal
            problems.append(f"{info.name}: {exc}")
            continue
        truth = scenario.ground_truth
        faults = frozenset([truth.fault, *truth.alternative_faults])
        tier = Tier(scenario.metadata.tier)
        request = _request(scenario, tier)
        cases.append(ScenarioCase(info.name, request, world(scenario), faults, tier.value))
    note = f"{len(cases)} scenarios"
    if problems:
        note += f" ({len(problems)} failed to load: {'; '.join(problems)[:300]})"
    return cases, note


def _request(scenario: Any, tier: Tier) -> InvestigationRequest:
    """What the control plane worker would build from the scenario's trigger."""
    trigger = scenario.trigger
    if trigger.kind == "question" and trigger.question:
        question = str(trigger.question)
    else:
        question = f"{trigger.alert or 'alert'}: {trigger.summary}"
    return InvestigationRequest(
        question=question,
        tier=tier,
        domains=tuple(Domain(d) for d in scenario.metadata.domains),
        scenario=str(scenario.metadata.name),
    )


def score(diagnosis: Diagnosis, faults: frozenset[str]) -> tuple[bool, bool]:
    ids = [c.fault for c in diagnosis.root_causes[:3]]
    return bool(ids) and ids[0] in faults, any(i in faults for i in ids)
