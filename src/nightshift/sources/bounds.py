"""The destinations a worker's declared sources put within bounds.

Policy holds every network probe to the agent's cluster Services plus these:
the host of each declared source (the agent reads it anyway), the network
source's allow-list, and, for the simulated world, the hosts its scenario
declares (its stand-in for declared sources). Log text adds nothing here.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from urllib.parse import urlsplit

from pydantic import BaseModel

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
    yield from _declared_in(loaded)


# Where a scenario's world (or a patch an action applies) names a host.
_HOST_FIELDS = {"network_checks": "destination", "dns": "name", "databases": "host"}


def _declared_in(node: BaseModel) -> Iterator[str]:
    """Hosts a scenario's world declares: probe targets, DNS names, databases,
    wherever a model nests them. Walks the models themselves (no dump): only
    models hold these lists, so plain values and mappings are never entered."""
    for key, value in vars(node).items():
        if isinstance(value, BaseModel):
            yield from _declared_in(value)
        elif isinstance(value, list) and value and isinstance(value[0], BaseModel):
            wanted = _HOST_FIELDS.get(key)
            for item in value:
                host = getattr(item, wanted, None) if wanted else None
                if isinstance(host, str):
                    yield host
                yield from _declared_in(item)


def _entries(source: SourceConfig) -> tuple[list[str], str | None]:
    """One source's destinations, and the cluster domain it sets (network only)."""
    entries: list[str] = []
    domain: str | None = None
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
    return entries, domain


def _bounds(per_source: Sequence[tuple[list[str], str | None]]) -> DestinationBounds:
    entries = [e for found, _ in per_source for e in found]
    domain = DEFAULT_CLUSTER_DOMAIN
    for _, set_by in per_source:
        domain = set_by or domain  # the last network source's, as declared
    try:
        return DestinationBounds.of(entries, domain)
    except ValueError as exc:
        raise SourcesError(f"network destinations: {exc}") from None


def destination_bounds(sources: Sequence[SourceConfig]) -> DestinationBounds:
    """What probes may reach besides the agent's Services, from the declared sources."""
    return _bounds([_entries(source) for source in sources])


def declared_destinations(sources: Sequence[SourceConfig]) -> DestinationBounds:
    """The worker's bounds for policy: like ``destination_bounds``, but a source
    whose settings are broken adds nothing (it fails its own set-up, reported).
    Each source is read once (a simulated one loads its scenario to do so)."""
    usable: list[tuple[list[str], str | None]] = []
    for source in sources:
        try:
            found = _entries(source)
            _bounds([found])  # the same check destination_bounds([source]) makes
        except SourcesError:
            continue
        usable.append(found)
    return _bounds(usable)
