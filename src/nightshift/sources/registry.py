"""From declared sources to the worker's one toolset.

Each kind names the module and factory that builds its toolset; a module is
imported only when a source of its kind is used, so a worker pays (in start-up
time) only for what it reads.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence

from nightshift.agent.tools.protocol import Toolset
from nightshift.sources.config import SourceConfig, SourceKind, SourcesError
from nightshift.sources.context import SourceContext
from nightshift.sources.guard import GuardedSource, unavailable
from nightshift.sources.merged import MergedToolset

SourceFactory = Callable[[SourceConfig, SourceContext], Toolset]

# kind -> "module:factory"; each factory validates its own ``settings``.
FACTORIES: dict[SourceKind, str] = {
    SourceKind.KUBERNETES: "nightshift.sources.kubernetes:build",
    SourceKind.SIMULATED: "nightshift.sources.simulated:build",
    SourceKind.CHANGES: "nightshift.sources.changefeed:build",
    SourceKind.LOKI: "nightshift.sources.loki:build",
    SourceKind.VICTORIALOGS: "nightshift.sources.victorialogs:build",
    SourceKind.NETWORK: "nightshift.sources.network:build",
    SourceKind.POSTGRESQL: "nightshift.sources.postgresql:build",
    SourceKind.PGBOUNCER: "nightshift.sources.pgbouncer:build",
    SourceKind.PROMETHEUS: "nightshift.sources.prometheus:build",
    SourceKind.ALERTMANAGER: "nightshift.sources.alertmanager:build",
    SourceKind.MCP: "nightshift.sources.mcp_source:build",
}


def factory_for(kind: SourceKind) -> SourceFactory:
    target = FACTORIES.get(kind)
    if target is None:
        raise SourcesError(f"sources of kind {kind.value!r} are not supported by this build")
    module, _, attr = target.partition(":")
    built: SourceFactory = getattr(importlib.import_module(module), attr)
    return built


def assemble(
    sources: Sequence[SourceConfig], context: SourceContext
) -> tuple[Toolset, tuple[str, ...]]:
    """One toolset over every source that could be set up, each guarded (time, size,
    failures), and why each other one could not: a misconfigured source is evidence
    the investigation reports, not a reason to read nothing at all."""
    parts: list[tuple[str, Toolset]] = []
    problems: list[str] = []
    for source in sources:
        try:
            inner = factory_for(source.kind)(source, context)
        except Exception as exc:  # a misconfigured source names itself
            why = exc if isinstance(exc, SourcesError) else f"{type(exc).__name__}: {exc}"
            problems.append(unavailable(source, f"could not be set up: {why}"))
            continue
        parts.append((source.name, GuardedSource(inner, source)))
    if not parts:
        raise SourcesError(
            "no evidence source could be set up"
            + (": " + "; ".join(problems) if problems else " (none declared)")
        )
    toolset = parts[0][1] if len(parts) == 1 else MergedToolset(parts)
    return toolset, tuple(problems)


def build_toolset(sources: Sequence[SourceConfig], context: SourceContext) -> Toolset:
    """Like ``assemble``, but any source that cannot be set up is an error."""
    toolset, problems = assemble(sources, context)
    if problems:
        raise SourcesError("; ".join(problems))
    return toolset
