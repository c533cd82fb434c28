"""The unit suite's network guard refuses real hosts and lets loopback through."""

from __future__ import annotations

import socket

import httpx
import pytest

from tests.support.network_guard import RealNetworkBlocked


def test_a_real_address_is_refused_before_any_packet() -> None:
    with socket.socket() as sock, pytest.raises(RealNetworkBlocked):
        sock.connect(("192.0.2.1", 80))  # TEST-NET-1: never routable anyway
    with pytest.raises(RealNetworkBlocked):
        socket.getaddrinfo("example.org", 443)
    with pytest.raises(httpx.ConnectError, match="may not"):
        httpx.get("http://198.51.100.7/", timeout=1)


def test_loopback_still_works() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with socket.socket() as client:
            client.connect(server.getsockname())
    assert socket.getaddrinfo("localhost", 80)
