"""Scenario worlds and the request the worker would build for them."""

from __future__ import annotations

from nightshift.agent.request import InvestigationRequest
from nightshift.domain.vocabulary import Domain, Tier
from nightshift.scenarios import SimulatedWorld, load_scenario


def world(name: str) -> tuple[InvestigationRequest, SimulatedWorld, str]:
    """(request, world, ground-truth fault) for a scenario of the corpus."""
    scenario = load_scenario(name)
    trigger = scenario.trigger
    question = trigger.question or f"{trigger.alert or 'alert'}: {trigger.summary}"
    request = InvestigationRequest(
        question=str(question),
        tier=Tier(scenario.metadata.tier),
        domains=tuple(Domain(d) for d in scenario.metadata.domains),
        scenario=name,
    )
    return request, SimulatedWorld(scenario), str(scenario.ground_truth.fault)
