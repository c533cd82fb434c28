"""The simulated incident world: scenario files (data) and a Toolset over them.

Public API: ``load_scenario``, ``list_scenarios``, ``SimulatedWorld`` (see
docs/scenarios.md for the file format and how to write your own).
"""

from nightshift.scenarios.actions import ActionOutcome
from nightshift.scenarios.actions_catalog import ACTION_TYPES
from nightshift.scenarios.loader import (
    ScenarioError,
    ScenarioInfo,
    list_scenarios,
    load_installed,
    load_scenario,
    parse_scenario,
)
from nightshift.scenarios.model import Scenario
from nightshift.scenarios.world import SimulatedWorld

__all__ = [
    "ACTION_TYPES",
    "ActionOutcome",
    "Scenario",
    "ScenarioError",
    "ScenarioInfo",
    "SimulatedWorld",
    "list_scenarios",
    "load_installed",
    "load_scenario",
    "parse_scenario",
]
