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
from nightshift.sources.guard import GuardedSource
from nightshift.sources.merged import MergedToolset

SourceFactory = Callable[[SourceConfig, SourceContext], Toolset]

# kind -> "module:factory"; each factory validates its own ``settings``.
FACTORIES: dict[SourceKind, str] = {
    SourceKind.KUBERNETES: "nightshift.sources.kubernetes:build",
    SourceKind.SIMULATED: "nightshift.sources.simulated:build",
    SourceKind.LOKI: "nightshift.sources.loki:build",
    SourceKind.VICTORIALOGS: "nightshift.sources.victorialogs:build",
    SourceKind.NETWORK: "nightshift.sources.network:build",
    SourceKind.POSTGRESQL: "nightshift.sources.postgresql:build",
    SourceKind.PGBOUNCER: "nightshift.sources.pgbouncer:build",
    SourceKind.PROMETHEUS: "nightshift.sources.prometheus:build",
    SourceKind.ALERTMANAGER: "nightshift.sources.alertmanager:build",
}


def factory_for(kind: SourceKind) -> SourceFactory:
    target = FACTORIES.get(kind)
    if target is None:
        raise SourcesError(f"sources of kind {kind.value!r} are not supported by this build")
    module, _, attr = target.partition(":")
    built: SourceFactory = getattr(importlib.import_module(module), attr)
    return built


def build_toolset(sources: Sequence[SourceConfig], context: SourceContext) -> Toolset:
    """One toolset over every source, each guarded (time, size, failures)."""
    if not sources:
        raise SourcesError("this investigation has no evidence source")
    parts: list[tuple[str, Toolset]] = []
    for source in sources:
        try:
            inner = factory_for(source.kind)(source, context)
        except SourcesError:
            raise
        except Exception as exc:  # a misconfigured source names itself
            raise SourcesError(
                f"source {source.name!r} ({source.kind.value}) could not be set up: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        parts.append((source.name, GuardedSource(inner, source)))
    return parts[0][1] if len(parts) == 1 else MergedToolset(parts)
