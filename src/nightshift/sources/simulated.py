"""The simulated incident world as a source (the embedded default and the tests)."""

from __future__ import annotations

from nightshift.agent.tools.protocol import Toolset
from nightshift.sources.config import SourceConfig, SourcesError
from nightshift.sources.context import SourceContext


def build(source: SourceConfig, context: SourceContext) -> Toolset:
    from nightshift.scenarios import SimulatedWorld, load_installed

    scenario = source.setting("scenario")
    if not isinstance(scenario, str) or not scenario:
        raise SourcesError(f"simulated source {source.name!r} needs settings.scenario")
    # The scenario name may come from a submission: installed names only, never a path.
    return SimulatedWorld(load_installed(scenario))
