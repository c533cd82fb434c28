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
from nightshift.domain.diagnosis import Diagnosis, ResourceRef, RootCause
from nightshift.domain.vocabulary import Domain, Tier


@dataclass(frozen=True, slots=True)
class ScenarioCase:
    name: str
    request: InvestigationRequest
    toolset: Toolset
    faults: frozenset[str]  # ground-truth fault ids (any counts as a hit)
    tier: str
    # ground-truth resources: the root cause and its declared aliases (any counts as a hit)
    objects: tuple[ResourceRef, ...] = ()


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
        objects = tuple(
            ResourceRef(r.kind, r.name, r.namespace)
            for r in (truth.root_cause, *truth.alternative_resources)
        )
        cases.append(ScenarioCase(info.name, request, world(scenario), faults, tier.value, objects))
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


@dataclass(frozen=True, slots=True)
class Score:
    """What a user needs from the top of the ranking, scored separately."""

    fault1: bool  # the top fault is the ground truth (or a declared alternative)
    object1: bool  # the top resource is the culprit (kind+name exact, or a declared alias)
    a1: bool  # both on the same (top) entry: the proposal would fix the right thing
    a3: bool  # both on one of the top three entries


def object_matches(found: ResourceRef, objects: tuple[ResourceRef, ...]) -> bool:
    """Kind and name exact; the namespace must agree when both sides state one."""
    return any(
        found.kind == o.kind
        and found.name == o.name
        and (not found.namespace or not o.namespace or found.namespace == o.namespace)
        for o in objects
    )


def score(diagnosis: Diagnosis, faults: frozenset[str], objects: tuple[ResourceRef, ...]) -> Score:
    def both(c: RootCause) -> bool:
        return c.fault in faults and object_matches(c.resource, objects)

    top3 = diagnosis.root_causes[:3]
    top = top3[0] if top3 else None
    return Score(
        fault1=top is not None and top.fault in faults,
        object1=top is not None and object_matches(top.resource, objects),
        a1=top is not None and both(top),
        a3=any(both(c) for c in top3),
    )
