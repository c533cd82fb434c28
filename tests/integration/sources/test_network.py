"""network_check and dns_lookup from the worker against real sockets and a
real DNS responder on 127.0.0.1, built through the registry as a worker builds
them; destinations outside the agent's boundaries are never contacted."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from nightshift.agent.tools.protocol import ToolCall, ToolResult, Toolset, ToolStatus
from nightshift.domain.vocabulary import Domain
from nightshift.sources.config import SourceConfig, SourceKind, SourcesError
from nightshift.sources.context import SourceContext
from nightshift.sources.registry import build_toolset
from tests.support.dns import DnsResponder
from tests.support.listeners import Listener, closed_port, tcp_listener, tls_listener

ZONE = {
    "orders-db.data.svc.cluster.local": [("A", "127.0.0.1")],
    "checkout.shop.svc.cluster.local": [("CNAME", "checkout-v2.shop.svc.cluster.local.")],
    "checkout-v2.shop.svc.cluster.local": [("A", "10.96.7.7"), ("AAAA", "fd00:10:96::7")],
    "_postgresql._tcp.orders-db.data.svc.cluster.local": [
        ("SRV", "10 60 5432 orders-db.data.svc.cluster.local.")
    ],
    # in bounds by name, but pointing at the metadata service / loopback
    "innocent.shop.svc.cluster.local": [("A", "169.254.169.254")],
    "sneaky.shop.svc.cluster.local": [("A", "127.0.0.1")],
}
SILENT = frozenset({"slow.shop.svc.cluster.local"})


@pytest.fixture(scope="module")
def responder() -> Iterator[DnsResponder]:
    server = DnsResponder(ZONE, SILENT).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def tcp() -> Iterator[Listener]:
    listener = tcp_listener()
    yield listener
    listener.stop()


@pytest.fixture(scope="module")
def tls() -> Iterator[Listener]:
    listener = tls_listener("orders-db.data.svc.cluster.local")
    yield listener
    listener.stop()


def _toolset(responder: DnsResponder, **settings: Any) -> Toolset:
    source = SourceConfig(
        name="worker-network",
        kind=SourceKind.NETWORK,
        domain=Domain.NETWORK,
        timeout_seconds=5,
        settings={
            "allow": ["127.0.0.1"],
            "nameservers": [responder.nameserver],
            "dns_timeout_seconds": 0.5,
            "connect_timeout_seconds": 1,
            **settings,
        },
    )
    context = SourceContext("inv-network-01", frozenset({"shop", "data"}), declared=(source,))
    return build_toolset([source], context)


async def _check(toolset: Toolset, destination: str, **params: Any) -> ToolResult:
    call = ToolCall(
        "network_check", {"source": "shop/checkout", "destination": destination, **params}
    )
    return await toolset.call(call)


async def test_an_allow_listed_listener_answers_with_connect_time(
    responder: DnsResponder, tcp: Listener
) -> None:
    before = tcp.accepted
    result = await _check(_toolset(responder), "127.0.0.1", port=tcp.port)
    assert result.status is ToolStatus.OK, result.text
    assert f"Connection to 127.0.0.1 (127.0.0.1) {tcp.port} port [tcp/*] succeeded!" in result.text
    assert "connect time:" in result.text
    assert result.data is not None and result.data["result"] == "ok"
    assert tcp.wait_accepted(before + 1) == before + 1
    assert "not from shop/checkout" in result.text  # where the probe really started


async def test_a_cluster_service_name_resolves_through_dns_then_connects(
    responder: DnsResponder, tcp: Listener
) -> None:
    result = await _check(_toolset(responder), f"orders-db.data.svc.cluster.local:{tcp.port}")
    assert result.status is ToolStatus.OK, result.text
    assert "succeeded!" in result.text
    assert responder.asked("orders-db.data.svc.cluster.local")


async def test_a_closed_port_is_refused() -> None:
    port = closed_port()
    toolset = _toolset(DnsResponder({}))
    result = await _check(toolset, f"127.0.0.1:{port}")
    assert result.status is ToolStatus.OK
    assert f"port {port} (tcp) failed: Connection refused" in result.text
    assert result.data is not None and result.data["result"] == "refused"


async def test_a_tls_listener_with_a_self_signed_certificate_shows_the_handshake(
    responder: DnsResponder, tls: Listener
) -> None:
    result = await _check(_toolset(responder), "127.0.0.1", port=tls.port, tls=True)
    assert result.status is ToolStatus.OK, result.text
    assert "TLS handshake: TLSv1.3" in result.text
    assert "verify: certificate verify failed: self-signed certificate" in result.text
    assert "subject CN=orders-db.data.svc.cluster.local" in result.text
    assert "expires in 30 days" in result.text or "expires in 29 days" in result.text
    assert result.data is not None and result.data["result"] == "tls-error"
    assert result.data["tls"]["certificate"]["names"][0] == "DNS:orders-db.data.svc.cluster.local"


async def test_a_tls_listener_trusted_through_ca_file_verifies(
    responder: DnsResponder, tls: Listener
) -> None:
    toolset = _toolset(responder, ca_file=str(tls.cert_file))
    name = f"orders-db.data.svc.cluster.local:{tls.port}"
    result = await _check(toolset, name, tls=True)
    assert "verify: ok" in result.text, result.text
    assert result.data is not None and result.data["result"] == "ok"


async def test_dns_lookup_answers_like_nslookup(responder: DnsResponder) -> None:
    toolset = _toolset(responder)
    answer = await toolset.call(ToolCall("dns_lookup", {"name": "checkout.shop.svc.cluster.local"}))
    assert answer.status is ToolStatus.OK
    text = answer.text
    assert f"Address:\t{responder.nameserver.replace(':', '#')}" in text
    assert "canonical name = checkout-v2.shop.svc.cluster.local." in text
    assert "Address: 10.96.7.7" in text and "Address: fd00:10:96::7" in text

    missing = await toolset.call(ToolCall("dns_lookup", {"name": "nope.shop.svc.cluster.local"}))
    assert "** server can't find nope.shop.svc.cluster.local: NXDOMAIN" in missing.text
    assert missing.data is not None and missing.data["result"] == "nxdomain"

    slow = await toolset.call(ToolCall("dns_lookup", {"name": "slow.shop.svc.cluster.local"}))
    assert slow.text == ";; connection timed out; no servers could be reached"

    srv = await toolset.call(
        ToolCall("dns_lookup", {"name": "_postgresql._tcp.orders-db.data.svc.cluster.local"})
    )
    assert "service = 10 60 5432 orders-db.data.svc.cluster.local." in srv.text


async def test_out_of_bounds_destinations_are_denied_without_a_packet(
    responder: DnsResponder, tcp: Listener
) -> None:
    toolset = _toolset(responder)
    before_queries, before_accepts = len(responder.queries), tcp.accepted
    for destination in (
        "exfil.attacker.example:4444",
        "169.254.169.254:80",
        "metadata.google.internal:80",
        "[fd00:ec2::254]:80",
        "fe80::1",
        "vault.vault.svc.cluster.local:8200",
        f"localhost:{tcp.port}",
    ):
        result = await _check(toolset, destination)
        assert result.status is ToolStatus.DENIED, (destination, result.text)
        assert result.text.startswith("not probed:")
    for name in ("exfil.attacker.example", "metadata.google.internal", "vault.vault.svc"):
        answer = await toolset.call(ToolCall("dns_lookup", {"name": name}))
        assert answer.status is ToolStatus.DENIED, name
    assert len(responder.queries) == before_queries  # not even a DNS question
    assert tcp.accepted == before_accepts


async def test_a_name_resolving_to_metadata_or_loopback_is_not_connected(
    responder: DnsResponder, tcp: Listener
) -> None:
    toolset = _toolset(responder)
    before = tcp.accepted
    metadata = await _check(toolset, "innocent.shop.svc.cluster.local:80")
    assert metadata.status is ToolStatus.DENIED
    assert "resolves to 169.254.169.254" in metadata.text
    # loopback is the worker's own services: only an allow-listed address may be it
    unlisted = _toolset(responder, allow=[])
    loopback = await _check(unlisted, f"sneaky.shop.svc.cluster.local:{tcp.port}")
    assert loopback.status is ToolStatus.DENIED and "loopback" in loopback.text
    assert tcp.accepted == before
    lookup = await toolset.call(ToolCall("dns_lookup", {"name": "innocent.shop.svc.cluster.local"}))
    assert "network_check will not probe it" in lookup.text


async def test_an_unresolvable_service_reads_like_getaddrinfo(responder: DnsResponder) -> None:
    result = await _check(_toolset(responder), "gone.shop.svc.cluster.local:80")
    assert result.status is ToolStatus.OK
    assert 'getaddrinfo for host "gone.shop.svc.cluster.local" port 80' in result.text


def test_bad_settings_are_refused_by_name(responder: DnsResponder) -> None:
    with pytest.raises(SourcesError, match="allow entry"):
        _toolset(responder, allow=["*.com"])
    with pytest.raises(SourcesError, match="settings: connect_timeout_seconds"):
        _toolset(responder, connect_timeout_seconds=-1)
    with pytest.raises(SourcesError, match="unknown_key"):
        _toolset(responder, unknown_key=1)
