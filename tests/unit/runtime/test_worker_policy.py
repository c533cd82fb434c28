"""Every tool call of a worker is decided by policy and reported with its intent."""

from __future__ import annotations

from nightshift.agent.events import EventKind
from nightshift.agent.tools.protocol import ToolCall, ToolStatus
from nightshift.agent.tools.static import StaticToolset
from nightshift.domain.actions import load_action_catalog
from nightshift.domain.agents import AgentIdentity, Boundaries, Principal
from nightshift.domain.vocabulary import AuthorityClass, Domain, PrincipalKind, TrustPhase
from nightshift.runtime.worker_policy import WorkerGovernance

OWNER = Principal("lead", "lead", PrincipalKind.HUMAN, contact="lead@x.org")


def _governance(domains: set[Domain], max_calls: int = 100) -> WorkerGovernance:
    identity = AgentIdentity(
        name="triage",
        owner=OWNER,
        authority_class=AuthorityClass.SUPERVISED,
        phase=TrustPhase.ASSIST,
        boundaries=Boundaries(
            namespaces=frozenset({"shop"}), domains=frozenset(domains), max_tool_calls=max_calls
        ),
    )
    return WorkerGovernance(identity, "0123456789abcdef", load_action_catalog())


async def test_a_call_outside_the_boundary_is_denied_and_reported_with_its_intent() -> None:
    gov = _governance({Domain.KUBERNETES})
    tools = gov.wrap(StaticToolset([]))
    gov.intent = "suspect a firewall change between shop and the data centre"
    result = await tools.call(ToolCall("firewall_rules", {"target": "fw-dc-edge"}))
    assert result.status is ToolStatus.DENIED
    [event] = gov.drain()
    assert event.kind is EventKind.POLICY_DECISION
    assert event.data["decision"]["outcome"] == "deny"
    assert event.data["decision"]["reason"] == "out_of_scope"
    assert event.data["intent"].startswith("suspect a firewall change")


async def test_another_namespace_is_out_of_scope_too() -> None:
    gov = _governance({Domain.KUBERNETES})
    tools = gov.wrap(StaticToolset([]))
    result = await tools.call(ToolCall("kubectl_get", {"kind": "pods", "namespace": "payments"}))
    assert result.status is ToolStatus.DENIED


async def test_allowed_calls_are_reported_too_and_spend_the_chain_budget() -> None:
    gov = _governance({Domain.KUBERNETES}, max_calls=2)
    tools = gov.wrap(StaticToolset([]))
    call = ToolCall("kubectl_get", {"kind": "pods", "namespace": "shop"})
    first, second, third = [await tools.call(call) for _ in range(3)]
    assert first.status is not ToolStatus.DENIED
    assert second.status is not ToolStatus.DENIED
    assert third.status is ToolStatus.DENIED  # the chain's tool-call budget is spent
    outcomes = [e.data["decision"]["outcome"] for e in gov.drain()]
    assert outcomes == ["allow", "allow", "deny"]
