"""Network probe destinations stay within the agent's boundaries (issue 15:
log text steers probes). The bound check is pure; policy and the network
source both apply it."""

from __future__ import annotations

from dataclasses import replace

import pytest

from nightshift.agent.tools.catalog import BY_NAME
from nightshift.agent.tools.governed import GovernedToolset, tool_request
from nightshift.agent.tools.protocol import ToolCall, ToolResult, ToolSpec, ToolStatus
from nightshift.domain.vocabulary import Domain
from nightshift.governance.decisions import Outcome, ReasonCode
from nightshift.governance.destinations import (
    DestinationBounds,
    check_destination,
    check_resolved,
    denied_address,
    host_of,
)
from nightshift.governance.policy import ToolRequest, bind, decide, request_to_dict

from .builders import agent, context, wide_boundaries

NS = frozenset({"shop", "data"})
DECLARED = DestinationBounds.of(
    ["prometheus.monitoring.example", "*.corp.internal", "10.40.0.0/16", "127.0.0.1"]
)


@pytest.mark.parametrize(
    "destination",
    [
        "orders-db",
        "orders-db.data",
        "orders-db.data:5432",
        "orders-db.data.svc",
        "orders-db.data.svc.cluster.local",
        "orders-db.data.svc.cluster.local.",
        "ORDERS-DB.Data.SVC.cluster.local",
        "postgres-0.orders-db.data.svc.cluster.local",
        "_postgresql._tcp.orders-db.data.svc.cluster.local",
        "prometheus.monitoring.example",
        "https://prometheus.monitoring.example:9090/api",
        "ldap.corp.internal",
        "10.40.2.10",
        "127.0.0.1:8080",
    ],
)
def test_cluster_services_in_its_namespaces_and_declared_hosts_are_allowed(
    destination: str,
) -> None:
    assert check_destination(destination, NS, DECLARED) is None


@pytest.mark.parametrize(
    "destination",
    [
        "exfil.attacker.example:4444",
        "exfil.attacker.example",
        "vault.vault.svc.cluster.local",  # a namespace outside the boundary
        "vault.vault",
        "orders-db.data.svc.evil.example",
        "orders-db.data.svc.cluster.local.evil.example",
        "corp.internal.attacker.example",
        "10.41.0.1",  # outside the allowed range
        "8.8.8.8:53",
        "localhost:5432",
        "2852039166",  # 169.254.169.254 as one decimal number
        "0xa9fea9fe",
        "0251.0376.0251.0376",
        "127.1",
        "-bad",
        "",
        "bad host name",
        "a" * 300,
    ],
)
def test_names_outside_the_boundary_are_denied(destination: str) -> None:
    assert check_destination(destination, NS, DECLARED) is not None


@pytest.mark.parametrize(
    "destination",
    [
        "169.254.169.254",
        "169.254.169.254:80",
        "http://169.254.169.254/latest/meta-data/",
        "169.254.10.1",
        "[fd00:ec2::254]:80",
        "fd00:ec2::254",
        "fe80::1",
        "::ffff:169.254.169.254",
        "metadata.google.internal",
        "metadata",
    ],
)
def test_metadata_and_link_local_are_denied_even_when_allow_listed(destination: str) -> None:
    listed = DestinationBounds.of(
        ["169.254.0.0/16", "metadata.google.internal", "fe80::/10", "fd00:ec2::254"]
    )
    why = check_destination(destination, frozenset({"*"}), listed)
    assert why is not None and ("metadata" in why or "link-local" in why)


def test_an_agent_of_all_namespaces_must_name_services_with_svc() -> None:
    every = frozenset({"*"})
    assert check_destination("vault.vault.svc.cluster.local", every, DECLARED) is None
    assert check_destination("vault.vault.svc", every, DECLARED) is None
    # any public two-label name looks like <service>.<namespace>
    assert check_destination("attacker.example", every, DECLARED) is not None


def test_the_cluster_domain_is_configurable() -> None:
    bounds = DestinationBounds.of([], cluster_domain="k8s.internal")
    assert check_destination("orders-db.data.svc.k8s.internal", NS, bounds) is None
    assert check_destination("orders-db.data.svc.cluster.local", NS, bounds) is not None


def test_resolved_addresses_are_checked_again() -> None:
    assert check_resolved("orders-db.data", ["10.96.4.2"], DECLARED) is None
    assert "link-local" in (check_resolved("innocent.data", ["169.254.169.254"], DECLARED) or "")
    assert check_resolved("innocent.data", ["10.0.0.1", "fe80::1"], DECLARED) is not None
    # loopback only when the allow-list names it
    assert check_resolved("shop-api", ["127.0.0.1"], DestinationBounds()) is not None
    assert check_resolved("127.0.0.1", ["127.0.0.1"], DECLARED) is None


def test_bad_allow_entries_are_refused_by_name() -> None:
    for entry in ("*.com", "10.0.0.0/40", "not a host"):
        with pytest.raises(ValueError, match="allow entry"):
            DestinationBounds.of([entry])


def test_host_of_reads_the_forms_a_model_writes() -> None:
    assert host_of("Orders-DB.data:5432") == "orders-db.data"
    assert host_of("[2001:db8::1]:443") == "2001:db8::1"
    assert host_of("2001:db8::1") == "2001:db8::1"
    assert host_of("tcp://orders-db.data:5432") == "orders-db.data"
    assert host_of("x y") is None
    assert denied_address("10.0.0.1") is None


def _probe(tool: str, **params: object) -> ToolRequest:
    return tool_request(ToolCall(tool, params), BY_NAME[tool])


def test_network_tool_requests_carry_their_destination() -> None:
    check = _probe("network_check", source="shop/checkout", destination="orders-db.data", port=5432)
    assert check.destination == "orders-db.data:5432"
    assert (
        _probe("dns_lookup", name="exfil.attacker.example").destination == "exfil.attacker.example"
    )
    assert _probe("firewall_rules", target="shop").destination is None
    assert _probe("kubectl_get", kind="pods", namespace="shop").destination is None
    assert request_to_dict(check)["destination"] == "orders-db.data:5432"


def test_policy_denies_a_probe_at_a_host_named_only_in_log_text() -> None:
    identity = agent()
    for request in (
        _probe("network_check", source="shop/checkout", destination="exfil.attacker.example:4444"),
        _probe("dns_lookup", name="exfil.attacker.example"),
        _probe("network_check", source="shop/checkout", destination="169.254.169.254", port=80),
        _probe("network_check", source="x", destination=""),
    ):
        decision = decide(identity, request, context(identity))
        assert decision.outcome is Outcome.DENY
        assert decision.reason is ReasonCode.DESTINATION_OUT_OF_BOUNDS


def test_policy_allows_services_in_its_namespaces_and_declared_sources() -> None:
    identity = agent(boundaries=wide_boundaries(namespaces=frozenset({"shop", "data"})))
    ctx = replace(context(identity), destinations=DECLARED)
    for request in (
        _probe("network_check", source="shop/checkout", destination="orders-db.data", port=5432),
        _probe("dns_lookup", name="checkout-api.shop.svc.cluster.local"),
        _probe("network_check", source="shop/checkout", destination="ldap.corp.internal:636"),
    ):
        assert decide(identity, request, ctx).allowed, request
    # the declared hosts come from the context, not from anything the call says
    ldap = _probe("dns_lookup", name="ldap.corp.internal")
    assert not decide(identity, ldap, context(identity)).allowed


class _Recorder:
    def __init__(self) -> None:
        self.calls: list[ToolCall] = []

    def specs(self) -> tuple[ToolSpec, ...]:
        return (BY_NAME["network_check"],)

    async def call(self, call: ToolCall) -> ToolResult:
        self.calls.append(call)
        return ToolResult(ToolStatus.OK, "Connection succeeded")


async def test_the_wrapper_decides_every_destination_afresh() -> None:
    identity = agent()
    inner = _Recorder()
    governed = GovernedToolset(inner, bind(identity, lambda: context(identity)))
    ok = ToolCall("network_check", {"source": "a", "destination": "checkout.shop", "port": 80})
    bad = ToolCall("network_check", {"source": "a", "destination": "exfil.attacker.example"})
    assert (await governed.call(ok)).status is ToolStatus.OK
    assert (await governed.call(bad)).status is ToolStatus.DENIED
    assert (await governed.call(ok)).status is ToolStatus.OK
    assert inner.calls == [ok, ok]
    assert Domain.NETWORK in {s.domain for s in governed.specs()}
