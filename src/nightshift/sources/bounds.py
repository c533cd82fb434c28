"""The destinations a worker's declared sources put within bounds.

Policy holds every network probe to the agent's cluster Services plus these:
the host of each declared source (the agent reads it anyway), the network
source's allow-list, and, for the simulated world, the hosts its scenario
declares (its stand-in for declared sources). Log text adds nothing here.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from nightshift.governance.destinations import (
    DEFAULT_CLUSTER_DOMAIN,
    DestinationBounds,
    host_of,
)
from nightshift.sources.config import SourceConfig, SourceKind, SourcesError


def url_host(url: str) -> str | None:
    if not url or url.startswith("unix:"):
        return None
    try:
        return host_of(urlsplit(url).hostname or "")
    except ValueError:
        return None


def _scenario_hosts(source: SourceConfig) -> Iterator[str]:
    from nightshift.scenarios import ScenarioError, load_installed

    scenario = source.setting("scenario")
    if not isinstance(scenario, str) or not scenario:
        return
    try:  # a name only: a path would read any file on the server
        loaded = load_installed(scenario)
    except ScenarioError as exc:
        raise SourcesError(f"source {source.name}: {exc}") from None
    yield from _declared_in(loaded.model_dump())


def _declared_in(node: Any) -> Iterator[str]:
    """Hosts a scenario's world declares: probe targets, DNS names, databases."""
    if isinstance(node, Mapping):
        for key, value in node.items():
            if isinstance(value, list):
                field = {"network_checks": "destination", "dns": "name", "databases": "host"}
                wanted = field.get(str(key))
                for item in value:
                    if wanted and isinstance(item, Mapping) and isinstance(item.get(wanted), str):
                        yield item[wanted]
                    yield from _declared_in(item)
            elif isinstance(value, Mapping):
                yield from _declared_in(value)


def destination_bounds(sources: Sequence[SourceConfig]) -> DestinationBounds:
    """What probes may reach besides the agent's Services, from the declared sources."""
    entries: list[str] = []
    domain = DEFAULT_CLUSTER_DOMAIN
    for source in sources:
        host = url_host(source.url)
        if host:
            entries.append(host)
        if source.kind is SourceKind.NETWORK:
            from nightshift.sources.network import parse_settings

            settings = parse_settings(source)
            entries.extend(settings.allow)
            domain = settings.cluster_domain
        elif source.kind is SourceKind.SIMULATED:
            entries.extend(h for h in _scenario_hosts(source) if host_of(h))
    try:
        return DestinationBounds.of(entries, domain)
    except ValueError as exc:
        raise SourcesError(f"network destinations: {exc}") from None


def declared_destinations(sources: Sequence[SourceConfig]) -> DestinationBounds:
    """The worker's bounds for policy: like ``destination_bounds``, but a source
    whose settings are broken adds nothing (it fails its own set-up, reported)."""
    usable: list[SourceConfig] = []
    for source in sources:
        try:
            destination_bounds([source])
        except SourcesError:
            continue
        usable.append(source)
    return destination_bounds(usable)
