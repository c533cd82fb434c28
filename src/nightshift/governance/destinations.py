"""Where a network probe may go: names within the agent's boundaries, never the
cloud's metadata service or a link-local address.

Text an agent reads (a log line, an event) can name any host; a probe steered
there would scan or exfiltrate from inside the cluster. So a destination is
allowed only when it is a cluster Service name in one of the agent's namespaces,
the host of a declared source, or an entry of the operator's allow-list. The
metadata endpoints and link-local ranges are denied whatever the bounds say, and
the network adapter checks again after DNS resolution (a harmless-looking name
may resolve to 169.254.169.254). Pure: no I/O, so policy can call it.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from nightshift.domain.agents import ALL_NAMESPACES

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Instance metadata services (AWS, GCP, Azure, Alibaba, Oracle) by name and address.
METADATA_NAMES = frozenset(
    {"metadata.google.internal", "metadata.goog", "metadata", "instance-data", "metadata.azure.com"}
)
ALWAYS_DENIED: tuple[IPNetwork, ...] = (
    ipaddress.ip_network("169.254.0.0/16"),  # link-local; 169.254.169.254 is the metadata IP
    ipaddress.ip_network("fe80::/10"),  # IPv6 link-local
    ipaddress.ip_network("fd00:ec2::254/128"),  # AWS metadata over IPv6
    ipaddress.ip_network("100.100.100.200/32"),  # Alibaba Cloud metadata
)
DEFAULT_CLUSTER_DOMAIN = "cluster.local"
_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")
_SERVICE = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")  # a DNS-1035 label
# 2852039166, 0xa9fea9fe, 0251.0376.0251.0376: inet_aton reads these as addresses
_LEGACY_ADDRESS = re.compile(r"^(0x[0-9a-f]+|[0-9]+)(\.(0x[0-9a-f]+|[0-9]+)){0,3}$")


@dataclass(frozen=True, slots=True)
class DestinationBounds:
    """Destinations allowed besides the agent's cluster Services: exact hosts
    (declared sources, allow-list), ``*.suffix`` patterns and CIDR ranges."""

    hosts: frozenset[str] = frozenset()
    suffixes: tuple[str, ...] = ()  # stored with the leading dot: ".corp.internal"
    networks: tuple[IPNetwork, ...] = ()
    cluster_domain: str = DEFAULT_CLUSTER_DOMAIN

    @classmethod
    def of(
        cls, entries: Iterable[str], cluster_domain: str = DEFAULT_CLUSTER_DOMAIN
    ) -> DestinationBounds:
        """Parse allow entries (``host``, ``*.suffix``, ``10.0.0.0/8``); a bad one raises
        ``ValueError`` naming it."""
        hosts: set[str] = set()
        suffixes: list[str] = []
        networks: list[IPNetwork] = []
        for raw in entries:
            entry = str(raw).strip().lower().rstrip(".")
            if entry.startswith("*."):
                if not _is_name(entry[2:]) or "." not in entry[2:]:
                    raise ValueError(f"allow entry {raw!r}: '*.' needs a domain of 2+ labels")
                suffixes.append(entry[1:])
            elif "/" in entry:
                try:
                    networks.append(ipaddress.ip_network(entry, strict=False))
                except ValueError:
                    raise ValueError(f"allow entry {raw!r} is not a CIDR range") from None
            else:
                host = host_of(entry)
                if host is None:
                    raise ValueError(f"allow entry {raw!r} is not a host name or address")
                hosts.add(host)
        domain = cluster_domain.strip().lower().strip(".")
        if not _is_name(domain):
            raise ValueError(f"cluster domain {cluster_domain!r} is not a DNS name")
        return cls(frozenset(hosts), tuple(suffixes), tuple(networks), domain)

    def merged(self, other: DestinationBounds) -> DestinationBounds:
        return DestinationBounds(
            self.hosts | other.hosts,
            self.suffixes + tuple(s for s in other.suffixes if s not in self.suffixes),
            self.networks + tuple(n for n in other.networks if n not in self.networks),
            self.cluster_domain,
        )


NO_DECLARED_DESTINATIONS = DestinationBounds()


def _is_name(host: str) -> bool:
    return bool(host) and len(host) <= 253 and all(_LABEL.match(x) for x in host.split("."))


_IPV4_CHARS = frozenset("0123456789.")


def _address(host: str) -> IPAddress | None:
    # Parsing raises for every name; a character test first keeps names cheap.
    if ":" not in host and not (host and set(host) <= _IPV4_CHARS):
        return None
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def host_of(destination: str) -> str | None:
    """The host a destination names (``host``, ``host:port``, ``[v6]:port``, a URL),
    lower-cased without a trailing dot; ``None`` when it names no host."""
    text = destination.strip().lower()
    if "://" in text:
        try:
            text = urlsplit(text).hostname or ""
        except ValueError:
            return None
    elif text.startswith("["):
        text = text[1 : text.find("]")] if "]" in text else ""
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    text = text.rstrip(".")
    ip = _address(text)
    if ip is not None:
        return str(ip)
    return text if _is_name(text) else None


def denied_address(address: str) -> str | None:
    """Why an address is never probed (metadata, link-local), or ``None``."""
    ip = _address(address)
    if ip is None:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for net in ALWAYS_DENIED:
        if ip.version == net.version and ip in net:
            return f"{address} is a cloud metadata or link-local address (always denied)"
    return None


def _cluster_namespace(labels: list[str], domain: list[str]) -> tuple[str | None, bool]:
    """The namespace a cluster Service name points into, and whether the name is
    explicitly cluster-internal (has the ``.svc`` part)."""
    n = len(labels)
    tail = labels[n - len(domain) :] if n > len(domain) else []
    if tail == domain:
        labels = labels[: n - len(domain)]
    elif n >= 3 and labels[-1] != "svc":
        return None, False
    if labels and labels[-1] == "svc" and len(labels) in (3, 4):  # svc.ns.svc, pod.svc.ns.svc
        return labels[-2], True
    if tail == domain:
        return None, False
    if len(labels) == 2:  # svc.ns: looks like any public two-label name
        return labels[1], False
    return None, False


@functools.lru_cache(maxsize=2048)
def check_destination(
    destination: str, namespaces: frozenset[str], bounds: DestinationBounds
) -> str | None:
    """``None`` when ``destination`` is within the agent's boundaries, else why not.
    Pure, so its answers are remembered: policy asks it on every probe."""
    host = host_of(destination)
    if host is None:
        return f"destination {destination[:80]!r} is not a host name or address"
    denied = denied_address(host)
    if denied or host in METADATA_NAMES:
        return denied or f"{host} is a cloud metadata service (always denied)"
    if host in bounds.hosts:
        return None
    ip = _address(host)
    if ip is not None:
        if any(ip.version == n.version and ip in n for n in bounds.networks):
            return None
        return f"address {host} is neither a declared source nor in the allow-list"
    if any(host.endswith(s) for s in bounds.suffixes):
        return None
    if _LEGACY_ADDRESS.match(host):
        return f"{host} reads as an address in legacy notation; write it as a.b.c.d"
    if host == "localhost" or host.endswith(".localhost"):
        return f"{host} is the worker's own loopback; allow-list it to probe it"
    labels = [x for x in host.split(".") if not x.startswith("_")]  # SRV: _port._proto.name
    if len(labels) == 1:
        # a bare Service name resolves only through the cluster's search path
        return None if _SERVICE.match(labels[0]) else f"{host} is not a Service name"
    namespace, explicit = _cluster_namespace(labels, bounds.cluster_domain.split("."))
    if namespace is not None:
        if namespace in namespaces or (explicit and ALL_NAMESPACES in namespaces):
            return None
        if not explicit and ALL_NAMESPACES in namespaces:
            return (
                f"{host} could be any public name; name a cluster Service as "
                f"<service>.<namespace>.svc for an agent of all namespaces"
            )
        return f"{host} is not a Service in the agent's namespaces"
    return f"{host} is neither a cluster Service in the agent's namespaces nor a declared source"


def check_resolved(host: str, addresses: Iterable[str], bounds: DestinationBounds) -> str | None:
    """After resolution: ``None`` when every address may be probed, else why not.
    A name may point anywhere, so the always-denied ranges are checked again, and
    loopback (the worker's own services) only when the allow-list names it."""
    name = host_of(host) or host
    for address in addresses:
        denied = denied_address(address)
        if denied:
            return f"{name} resolves to {denied}"
        ip = _address(address)
        if ip is not None and (ip.is_loopback or ip.is_unspecified):
            listed = name in bounds.hosts or str(ip) in bounds.hosts
            if not (listed or any(ip.version == n.version and ip in n for n in bounds.networks)):
                return f"{name} resolves to the worker's own loopback {address}; allow-list it"
    return None
