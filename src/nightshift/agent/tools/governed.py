"""A toolset wrapper that asks policy before every call.

Policy wraps toolsets instead of being a flag inside each tool: any
``Toolset`` becomes governed by wrapping it. A denied call never reaches the
inner toolset; it returns ``ToolStatus.DENIED`` with the reason code and is
reported to the audit sink. If the decision itself fails, the call is denied
(fail closed), never passed through.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from nightshift.agent.tools.protocol import ToolCall, ToolResult, Toolset, ToolSpec, ToolStatus
from nightshift.domain.agents import ALL_NAMESPACES
from nightshift.domain.vocabulary import Domain
from nightshift.governance.decisions import Decision, ReasonCode, deny
from nightshift.governance.policy import ToolRequest

DecideFn = Callable[[ToolRequest], Decision]
_MAX_CACHED = 512  # distinct (tool, namespace, destination) requests remembered per wrapper
# The parameter naming where a network tool's probe goes, in order of preference.
_DESTINATION_PARAMS = ("destination", "name", "host")
AuditSink = Callable[[ToolCall, ToolRequest, Decision], None]


def _namespaced(spec: ToolSpec) -> bool:
    props = spec.parameters.get("properties")
    return isinstance(props, Mapping) and "namespace" in props


def _destination_param(spec: ToolSpec) -> str | None:
    props = spec.parameters.get("properties")
    if spec.domain is not Domain.NETWORK or not isinstance(props, Mapping):
        return None
    return next((p for p in _DESTINATION_PARAMS if p in props), None)


def _destination(call: ToolCall, spec: ToolSpec) -> str | None:
    """The probe target of a network tool (``""`` when missing: policy denies it)."""
    param = _destination_param(spec)
    if param is None:
        return None
    raw = call.params.get(param)
    host = raw if isinstance(raw, str) else ""
    port = call.params.get("port")
    if host and isinstance(port, int) and not isinstance(port, bool) and ":" not in host:
        return f"{host}:{port}"
    return host


def tool_request(call: ToolCall, spec: ToolSpec | None) -> ToolRequest:
    """What policy sees of a call: tool, domain, writes?, namespace, destination.

    A namespaced tool called without a namespace reads all namespaces (``"*"``);
    an unknown tool has no domain, which policy denies; a network probe carries
    the host it would reach, so policy can hold it to the agent's boundaries.
    """
    if spec is None:
        return ToolRequest(tool=call.name, domain=None)
    namespace: str | None = None
    if _namespaced(spec):
        raw = call.params.get("namespace")
        namespace = str(raw) if raw else ALL_NAMESPACES
    return ToolRequest(
        tool=spec.name,
        domain=spec.domain,
        read_only=spec.read_only,
        namespace=namespace,
        destination=_destination(call, spec),
    )


def denied_result(decision: Decision) -> ToolResult:
    data: dict[str, Any] = decision.to_dict()
    return ToolResult(
        status=ToolStatus.DENIED,
        text=f"denied by policy ({decision.reason.value}): {decision.message}",
        data=data,
        error=decision.reason.value,
    )


class GovernedToolset:
    """Wraps ``inner``; every call is decided first. Specs pass through unchanged."""

    __slots__ = (
        "_audit",
        "_audit_allowed",
        "_by_name",
        "_decide",
        "_inner",
        "_probes",
        "_requests",
        "_specs",
    )

    def __init__(
        self,
        inner: Toolset,
        decide: DecideFn,
        *,
        audit: AuditSink | None = None,
        audit_allowed: bool = False,
    ) -> None:
        self._inner = inner
        self._decide = decide
        self._audit = audit
        self._audit_allowed = audit_allowed
        self._specs: Sequence[ToolSpec] = tuple(inner.specs())
        self._by_name: dict[str, ToolSpec] = {s.name: s for s in self._specs}
        # Requests are immutable and repeat (same tool, same namespace): reuse them
        # so the per-call cost is one dict lookup plus the decision. Network probes
        # vary by destination, so they are built afresh (never a stale target).
        self._requests: dict[tuple[str, str | None], ToolRequest] = {}
        self._probes = frozenset(s.name for s in self._specs if _destination_param(s) is not None)

    @property
    def inner(self) -> Toolset:
        return self._inner

    def specs(self) -> Sequence[ToolSpec]:
        return self._specs

    def _request(self, call: ToolCall) -> ToolRequest:
        namespace = call.params.get("namespace")
        if call.name in self._probes or not isinstance(namespace, str | None):
            # probes vary by destination; odd params: no caching, policy decides
            return tool_request(call, self._by_name.get(call.name))
        key = (call.name, namespace)
        request = self._requests.get(key)
        if request is None:
            request = tool_request(call, self._by_name.get(call.name))
            if len(self._requests) < _MAX_CACHED:
                self._requests[key] = request
        return request

    async def call(self, call: ToolCall) -> ToolResult:
        request = self._request(call)
        try:
            decision = self._decide(request)
        except Exception as exc:  # fail closed: a broken policy must not open the gate
            decision = deny(ReasonCode.POLICY_ERROR, f"policy decision failed: {exc!r}")
        if not decision.allowed:
            if self._audit is not None:
                self._audit(call, request, decision)
            return denied_result(decision)
        if self._audit_allowed and self._audit is not None:
            self._audit(call, request, decision)
        return await self._inner.call(call)
