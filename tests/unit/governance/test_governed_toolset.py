"""The governed wrapper: policy is asked before every call; denials never reach the tool."""

from __future__ import annotations

from collections.abc import Sequence

from nightshift.agent.tools.catalog import DB_STATS, KUBECTL_GET
from nightshift.agent.tools.governed import GovernedToolset, tool_request
from nightshift.agent.tools.protocol import ToolCall, ToolResult, Toolset, ToolSpec, ToolStatus
from nightshift.domain.vocabulary import AuthorityClass, Domain, TrustPhase
from nightshift.governance.decisions import Decision, ReasonCode
from nightshift.governance.policy import ToolRequest, bind

from .builders import agent, context, wide_boundaries


class RecordingToolset:
    def __init__(self) -> None:
        self.calls: list[ToolCall] = []

    def specs(self) -> Sequence[ToolSpec]:
        return (KUBECTL_GET, DB_STATS)

    async def call(self, call: ToolCall) -> ToolResult:
        self.calls.append(call)
        return ToolResult(status=ToolStatus.OK, text="NAME READY\ncheckout 1/1")


def governed(**boundaries: object) -> tuple[GovernedToolset, RecordingToolset, list[Decision]]:
    inner = RecordingToolset()
    identity = agent(
        AuthorityClass.AUTONOMOUS, TrustPhase.ASSIST, boundaries=wide_boundaries(**boundaries)
    )
    audited: list[Decision] = []
    wrapper = GovernedToolset(
        inner,
        bind(identity, lambda: context(identity)),
        audit=lambda _call, _req, decision: audited.append(decision),
    )
    return wrapper, inner, audited


def test_governed_toolset_is_a_toolset_with_the_same_specs() -> None:
    wrapper, inner, _ = governed()
    assert isinstance(wrapper, Toolset)
    assert list(wrapper.specs()) == list(inner.specs())


async def test_allowed_call_reaches_the_inner_toolset() -> None:
    wrapper, inner, audited = governed()
    result = await wrapper.call(ToolCall("kubectl_get", {"kind": "pods", "namespace": "shop"}))
    assert result.status is ToolStatus.OK
    assert len(inner.calls) == 1
    assert audited == []


async def test_denied_call_returns_denied_with_reason_and_is_audited() -> None:
    wrapper, inner, audited = governed(domains=frozenset({Domain.KUBERNETES}))
    result = await wrapper.call(ToolCall("db_stats", {}))
    assert result.status is ToolStatus.DENIED
    assert result.error == "out_of_scope"
    assert result.data is not None
    assert result.data["follow_up"] == "human_review"
    assert inner.calls == []
    assert [d.reason for d in audited] == [ReasonCode.OUT_OF_SCOPE]


async def test_namespaced_tool_without_namespace_means_all_namespaces() -> None:
    wrapper, inner, _ = governed()
    result = await wrapper.call(ToolCall("kubectl_get", {"kind": "pods"}))
    assert result.status is ToolStatus.DENIED
    assert inner.calls == []


async def test_unknown_tool_is_denied_without_reaching_the_inner_toolset() -> None:
    wrapper, inner, audited = governed()
    result = await wrapper.call(ToolCall("kubectl_exec", {}))
    assert result.error == "unknown_tool"
    assert inner.calls == []
    assert len(audited) == 1


async def test_a_failing_policy_fails_closed() -> None:
    inner = RecordingToolset()

    def broken(_: ToolRequest) -> Decision:
        raise RuntimeError("policy store unreachable")

    result = await GovernedToolset(inner, broken).call(ToolCall("kubectl_get", {"kind": "pods"}))
    assert result.status is ToolStatus.DENIED
    assert result.error == "policy_error"
    assert inner.calls == []


async def test_allowed_calls_are_audited_when_asked() -> None:
    inner = RecordingToolset()
    identity = agent(AuthorityClass.AUTONOMOUS, TrustPhase.ASSIST)
    seen: list[str] = []
    wrapper = GovernedToolset(
        inner,
        bind(identity, lambda: context(identity)),
        audit=lambda call, _req, decision: seen.append(f"{call.name}:{decision.reason}"),
        audit_allowed=True,
    )
    await wrapper.call(ToolCall("kubectl_get", {"kind": "pods", "namespace": "shop"}))
    assert seen == ["kubectl_get:allowed"]


def test_tool_request_maps_spec_to_policy_input() -> None:
    req = tool_request(ToolCall("kubectl_get", {"namespace": "shop"}), KUBECTL_GET)
    assert req == ToolRequest("kubectl_get", Domain.KUBERNETES, True, "shop")
    assert tool_request(ToolCall("db_stats", {}), DB_STATS).namespace is None
    assert tool_request(ToolCall("nope", {}), None).domain is None


async def test_repeated_and_odd_namespaces_are_decided_each_time() -> None:
    wrapper, inner, audited = governed()
    ok = ToolCall("kubectl_get", {"kind": "pods", "namespace": "shop"})
    other = ToolCall("kubectl_get", {"kind": "pods", "namespace": "payments"})
    odd = ToolCall("kubectl_get", {"kind": "pods", "namespace": ["shop"]})
    results = [await wrapper.call(c) for c in (ok, other, ok, odd)]
    assert [r.status for r in results] == [
        ToolStatus.OK,
        ToolStatus.DENIED,
        ToolStatus.OK,
        ToolStatus.DENIED,
    ]
    assert len(inner.calls) == 2
    assert len(audited) == 2
