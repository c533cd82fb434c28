"""The worker's side of an investigation's trace.

The worker continues the trace the control plane started (``TRACEPARENT`` in
its environment): every tool call becomes an ``execute_tool {tool}`` span
(by wrapping the toolset from the outside, so policy denials are traced too
and the agent package stays free of tracing), and every ``llm.call`` event
the reasoner emits becomes a ``chat {model}`` span. Without a traceparent or
an exporter the wrapper is not applied at all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import SpanKind, Status, StatusCode

from nightshift.agent.events import AgentEvent
from nightshift.agent.tools.protocol import ToolCall, ToolResult, Toolset, ToolSpec, ToolStatus
from nightshift.observability.llm_calls import LLM_CALL
from nightshift.observability.tracing import (
    ERROR_TYPE,
    OPERATION,
    OTLP_ENDPOINT_ENV,
    SCOPE,
    TOOL_NAME,
    TOOL_TYPE,
    TRACEPARENT_ENV,
    context_from,
    otlp_provider,
    record_chat_span,
)

_ERRORS = frozenset({ToolStatus.ERROR, ToolStatus.TIMEOUT, ToolStatus.DENIED})


class TracedToolset:
    """Wraps a toolset: one ``execute_tool`` span per call, child of the investigation."""

    def __init__(
        self, inner: Toolset, tracer: trace.Tracer, parent: Context, investigation_id: str
    ) -> None:
        self._inner = inner
        self._tracer = tracer
        self._parent = parent
        self._inv = investigation_id
        self._calls = 0

    def specs(self) -> Sequence[ToolSpec]:
        return self._inner.specs()

    async def call(self, call: ToolCall) -> ToolResult:
        self._calls += 1
        # A cancelled call (the loop's timeout) ends the span with the exception recorded.
        with self._tracer.start_as_current_span(
            f"execute_tool {call.name}",
            context=self._parent,
            kind=SpanKind.INTERNAL,
            attributes={
                OPERATION: "execute_tool",
                TOOL_NAME: call.name,
                TOOL_TYPE: "function",
                "gen_ai.tool.call.id": f"{self._inv}/{self._calls}",
                "nightshift.investigation.id": self._inv,
            },
        ) as span:
            result = await self._inner.call(call)
            span.set_attribute("nightshift.tool.status", result.status.value)
            if result.status in _ERRORS:
                span.set_attribute(ERROR_TYPE, result.status.value)
                span.set_status(Status(StatusCode.ERROR, (result.error or "")[:500]))
            return result


class WorkerTrace:
    def __init__(
        self,
        provider: TracerProvider | None,
        traceparent: str,
        investigation_id: str,
        *,
        owns_provider: bool = True,
    ) -> None:
        self._provider = provider
        self._owns = owns_provider
        self._inv = investigation_id
        self._parent = context_from(traceparent) if traceparent else Context()
        enabled = provider is not None and bool(traceparent)
        self._tracer = provider.get_tracer(SCOPE) if enabled and provider else None

    @classmethod
    def from_env(cls, env: Mapping[str, str], investigation_id: str) -> WorkerTrace:
        provider = otlp_provider(env.get(OTLP_ENDPOINT_ENV, ""), "nightshift-worker")
        return cls(provider, env.get(TRACEPARENT_ENV, ""), investigation_id)

    @property
    def enabled(self) -> bool:
        return self._tracer is not None

    def wrap(self, toolset: Toolset) -> Toolset:
        if self._tracer is None:
            return toolset
        return TracedToolset(toolset, self._tracer, self._parent, self._inv)

    def observe(self, event: AgentEvent) -> None:
        if self._tracer is not None and event.kind.value == LLM_CALL:
            record_chat_span(self._tracer, self._parent, event.data)

    def observe_raw(self, kind: str, data: Mapping[str, object]) -> None:
        """For event streams that carry kinds outside ``EventKind`` (``llm.call``)."""
        if self._tracer is not None and kind == LLM_CALL:
            record_chat_span(self._tracer, self._parent, data)

    def flush(self, timeout_millis: int = 5000) -> None:
        """Export what was recorded so far (before the result ends this unit)."""
        if self._provider is not None:
            self._provider.force_flush(timeout_millis)

    def close(self) -> None:
        """Flush what this worker recorded before the process exits."""
        if self._provider is not None and self._owns:
            self._provider.shutdown()
