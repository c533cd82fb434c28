"""network_check and dns_lookup from the worker against real sockets on
127.0.0.1: a TCP listener, a closed port, a TLS listener with a self-signed
certificate, and a DNS responder (dnspython on the wire).

``measure()`` (for ``python -m bench.sources``): p50/p95 per case, plus a
denied probe (the bound check alone) and the governed overhead of one
network_check (the policy wrapper around the same call) as a share of it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from bench.sources.common import Row, percentile, row, timed
from nightshift.agent.tools.governed import GovernedToolset
from nightshift.agent.tools.protocol import ToolCall, ToolResult, Toolset
from nightshift.domain.actions import load_action_catalog
from nightshift.domain.agents import AgentIdentity, Boundaries, Principal
from nightshift.domain.vocabulary import AuthorityClass, Domain, PrincipalKind, TrustPhase
from nightshift.governance.containment import start_chain
from nightshift.governance.destinations import DestinationBounds
from nightshift.governance.policy import PolicyContext, bind
from nightshift.sources.config import SourceConfig, SourceKind
from nightshift.sources.context import SourceContext
from nightshift.sources.registry import build_toolset
from tests.support.dns import DnsResponder
from tests.support.listeners import closed_port, tcp_listener, tls_listener

SAMPLES = 200
OVERHEAD_SAMPLES = 2000
ZONE = {"orders-db.data.svc.cluster.local": [("A", "127.0.0.1")]}


def _toolset(nameserver: str) -> Toolset:
    source = SourceConfig(
        name="network",
        kind=SourceKind.NETWORK,
        domain=Domain.NETWORK,
        settings={"allow": ["127.0.0.1"], "nameservers": [nameserver]},
    )
    context = SourceContext("bench", frozenset({"data"}), declared=(source,))
    return build_toolset([source], context)


def _governed(inner: Toolset) -> Toolset:
    boundaries = Boundaries(
        namespaces=frozenset({"data"}), domains=frozenset({Domain.NETWORK}), max_tool_calls=10**9
    )
    agent = AgentIdentity(
        name="bench",
        owner=Principal("olivia", "Olivia", PrincipalKind.HUMAN, contact="o@example.org"),
        authority_class=AuthorityClass.SUPERVISED,
        phase=TrustPhase.ASSIST,
        boundaries=boundaries,
    )
    ctx = PolicyContext(
        chain=start_chain("bench-chain", agent.name, boundaries),
        catalog=load_action_catalog(),
        destinations=DestinationBounds.of(["127.0.0.1"]),
    )
    return GovernedToolset(inner, bind(agent, lambda: ctx))


def _probe(destination: str, **params: object) -> ToolCall:
    return ToolCall("network_check", {"source": "data/bench", "destination": destination, **params})


def _caller(tools: Toolset, call: ToolCall) -> Callable[[], Awaitable[ToolResult]]:
    return lambda: tools.call(call)


async def _interleaved(
    raw: Toolset, governed: Toolset, call: ToolCall, samples: int
) -> tuple[list[float], list[float]]:
    """Plain and governed calls alternated, so machine noise hits both alike."""
    plain: list[float] = []
    wrapped: list[float] = []
    for i in range(samples * 2):
        tools, out = (raw, plain) if i % 2 == 0 else (governed, wrapped)
        started = time.perf_counter()
        await tools.call(call)
        out.append((time.perf_counter() - started) * 1000)
    return plain, wrapped


def _lookup(name: str) -> ToolCall:
    return ToolCall("dns_lookup", {"name": name})


async def _measure() -> list[Row]:
    dns = DnsResponder(ZONE).start()
    tcp, tls = tcp_listener(), tls_listener()
    try:
        tools = _toolset(dns.nameserver)
        governed = _governed(tools)
        cases = [
            ("network_check", "tcp connect ok", _probe(f"127.0.0.1:{tcp.port}")),
            ("network_check", "closed port (refused)", _probe(f"127.0.0.1:{closed_port()}")),
            (
                "network_check",
                "tls handshake (self-signed)",
                _probe(f"127.0.0.1:{tls.port}", tls=True),
            ),
            (
                "network_check",
                "service name via dns + connect",
                _probe(f"orders-db.data.svc.cluster.local:{tcp.port}"),
            ),
            ("network_check", "denied (metadata ip)", _probe("169.254.169.254:80")),
            (
                "dns_lookup",
                "A record",
                ToolCall("dns_lookup", {"name": "orders-db.data.svc.cluster.local"}),
            ),
            (
                "dns_lookup",
                "NXDOMAIN",
                ToolCall("dns_lookup", {"name": "gone.data.svc.cluster.local"}),
            ),
        ]
        rows = []
        for tool, case, call in cases:
            rows.append(row("network", tool, case, await timed(_caller(tools, call), SAMPLES)))
        ok = _probe(f"127.0.0.1:{tcp.port}")
        raw, wrapped = await _interleaved(tools, governed, ok, OVERHEAD_SAMPLES)
        extra_us = (percentile(wrapped, 50) - percentile(raw, 50)) * 1000
        share = extra_us / 10 / percentile(raw, 50)
        note = f"policy wrapper: {extra_us:+.0f} us = {share:+.1f}% of the call at p50"
        rows.append(row("network", "network_check", "tcp connect ok, governed", wrapped, note))
        return rows
    finally:
        tcp.stop()
        tls.stop()
        dns.stop()


def measure() -> list[Row]:
    return asyncio.run(_measure())


if __name__ == "__main__":
    for r in measure():
        print(r)
