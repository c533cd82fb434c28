"""``network_check`` and ``dns_lookup`` from the worker itself, held to the bounds.

Settings (all optional)::

    settings:
      allow: [risk-scoring.dc1.corp, "*.corp.internal", 10.40.0.0/16]
      cluster_domain: cluster.local
      nameservers: [10.96.0.10]        # default: the worker's /etc/resolv.conf
      connect_timeout_seconds: 3
      dns_timeout_seconds: 3
      ca_file: /etc/ssl/certs/internal-ca.pem   # verify TLS against this CA too

A destination is checked twice: by policy (the name, before the call) and here,
by name and again after resolution, so a name resolving to the metadata service
or a link-local address is never connected to. Nothing is sent for a denied one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from nightshift.agent.tools.catalog import DNS_LOOKUP, NETWORK_CHECK
from nightshift.agent.tools.protocol import ToolCall, ToolResult, ToolSpec, ToolStatus
from nightshift.governance.destinations import (
    DEFAULT_CLUSTER_DOMAIN,
    DestinationBounds,
    check_destination,
    check_resolved,
    host_of,
)
from nightshift.sources.bounds import destination_bounds
from nightshift.sources.config import SourceConfig, SourcesError
from nightshift.sources.context import SourceContext

if TYPE_CHECKING:
    from nightshift.sources.network_dns import Resolver


class NetworkSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    allow: tuple[str, ...] = ()
    cluster_domain: str = DEFAULT_CLUSTER_DOMAIN
    nameservers: tuple[str, ...] = ()
    connect_timeout_seconds: float = Field(default=3.0, gt=0, le=30)
    dns_timeout_seconds: float = Field(default=3.0, gt=0, le=30)
    ca_file: str | None = None


def parse_settings(source: SourceConfig) -> NetworkSettings:
    try:
        settings = NetworkSettings.model_validate(source.settings)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise SourcesError(f"network source {source.name!r}: settings: {problems}") from None
    return settings


def denied(why: str) -> ToolResult:
    text = f"not probed: {why}"
    return ToolResult(ToolStatus.DENIED, text, {"result": "denied"}, error=why)


class NetworkToolset:
    """Probes go out from the worker's own network namespace (say so: the
    catalog's ``source`` workload is not where the packet starts)."""

    def __init__(
        self,
        settings: NetworkSettings,
        bounds: DestinationBounds,
        namespaces: frozenset[str],
        resolver: Resolver,
    ) -> None:
        self._settings = settings
        self._bounds = bounds
        self._namespaces = namespaces
        self._resolver = resolver

    def specs(self) -> Sequence[ToolSpec]:
        return (NETWORK_CHECK, DNS_LOOKUP)

    def check(self, destination: str) -> str | None:
        return check_destination(destination, self._namespaces, self._bounds)

    async def call(self, call: ToolCall) -> ToolResult:
        if call.name == NETWORK_CHECK.name:
            return await self._network_check(call)
        if call.name == DNS_LOOKUP.name:
            return await self._dns_lookup(call)
        why = f"the network source does not answer {call.name}"
        return ToolResult(ToolStatus.NO_DATA, why, error=why)

    async def _network_check(self, call: ToolCall) -> ToolResult:
        from nightshift.sources.network_probe import probe

        raw = str(call.params.get("destination") or "")
        why = self.check(raw)
        host = host_of(raw)
        if why is not None or host is None:
            return denied(why or f"{raw!r} names no host")
        tls = bool(call.params.get("tls"))
        port = _port(raw, call.params.get("port"), tls)
        if port is None:
            return ToolResult(ToolStatus.ERROR, "port must be 1-65535", error="bad port")
        resolved = await self._resolver.addresses(host)
        if resolved.error is not None:
            return ToolResult(ToolStatus.OK, resolved.unresolvable_text(host, port), resolved.data)
        why = check_resolved(host, resolved.addresses, self._bounds)
        if why is not None:
            return denied(why)
        return await probe(
            host,
            port,
            resolved.addresses,
            tls=tls,
            timeout=self._settings.connect_timeout_seconds,
            ca_file=self._settings.ca_file,
            origin=str(call.params.get("source") or ""),
        )

    async def _dns_lookup(self, call: ToolCall) -> ToolResult:
        name = str(call.params.get("name") or "")
        why = self.check(name)
        host = host_of(name)
        if why is not None or host is None:
            return denied(why or f"{name!r} names no host")
        return await self._resolver.lookup(host, self._bounds)


def _port(destination: str, given: object, tls: bool) -> int | None:
    if isinstance(given, int) and not isinstance(given, bool):
        return given if 1 <= given <= 65535 else None
    text = destination.strip()
    if ("://" not in text and text.count(":") == 1) or (text.startswith("[") and "]:" in text):
        tail = text.rsplit(":", 1)[1]
        if tail.isdigit():
            value = int(tail)
            return value if 1 <= value <= 65535 else None
    if text.startswith("https://"):
        return 443
    return 443 if tls else 80


def build(source: SourceConfig, context: SourceContext) -> NetworkToolset:
    from nightshift.sources.network_dns import Resolver

    settings = parse_settings(source)
    declared = context.declared if source in context.declared else (*context.declared, source)
    bounds = destination_bounds(declared)
    resolver = Resolver(settings.nameservers, settings.dns_timeout_seconds)
    return NetworkToolset(settings, bounds, context.namespaces, resolver)
