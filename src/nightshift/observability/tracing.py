"""OpenTelemetry traces with the GenAI semantic conventions.

One trace per investigation: the control plane opens an ``invoke_agent
{agent}`` span when it dispatches the investigation and ends it at the
terminal state; the worker (another process or pod) continues the trace from
the W3C ``traceparent`` it gets in its environment, with an ``execute_tool
{tool}`` span per tool call and a ``chat {model}`` span per model call (read
from the reasoner's ``llm.call`` accounting events). A delegated child
investigation's span is a child of its parent's.

Off by default: without an OTLP endpoint no provider exists, nothing is
recorded and the worker's toolset is not wrapped. Providers are never made
global; each container (and each worker) owns its own.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from nightshift.observability.llm_calls import LlmCall

TRACEPARENT_ENV = "TRACEPARENT"  # the name OTel's environment-carrier spec uses
OTLP_ENDPOINT_ENV = "NIGHTSHIFT_OTLP_ENDPOINT"
SCOPE = "nightshift"
_PROPAGATOR = TraceContextTextMapPropagator()
_FAILED = frozenset({"failed", "deadline_exceeded"})

# GenAI semantic-convention attribute names (gen_ai.*), in one place.
OPERATION = "gen_ai.operation.name"
PROVIDER = "gen_ai.provider.name"
AGENT_NAME = "gen_ai.agent.name"
AGENT_ID = "gen_ai.agent.id"
CONVERSATION_ID = "gen_ai.conversation.id"
REQUEST_MODEL = "gen_ai.request.model"
RESPONSE_MODEL = "gen_ai.response.model"
INPUT_TOKENS = "gen_ai.usage.input_tokens"
OUTPUT_TOKENS = "gen_ai.usage.output_tokens"
CACHED_TOKENS = "gen_ai.usage.cache_read.input_tokens"
TOOL_NAME = "gen_ai.tool.name"
TOOL_TYPE = "gen_ai.tool.type"
ERROR_TYPE = "error.type"


def parse_headers(raw: str) -> dict[str, str]:
    """``key=value,key2=value2`` (the OTEL_EXPORTER_OTLP_HEADERS format)."""
    out: dict[str, str] = {}
    for part in raw.split(","):
        key, sep, value = part.partition("=")
        if sep and key.strip():
            out[key.strip()] = value.strip()
    return out


def otlp_provider(endpoint: str, service_name: str, headers: str = "") -> TracerProvider | None:
    """A provider exporting by OTLP/HTTP to ``endpoint``, or None when it is empty (off)."""
    if not endpoint:
        return None
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    url = endpoint.rstrip("/")
    if not url.endswith("/v1/traces"):
        url += "/v1/traces"
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    provider.add_span_processor(
        BatchSpanProcessor(OTLPSpanExporter(endpoint=url, headers=parse_headers(headers)))
    )
    return provider


def context_from(traceparent: str) -> Context:
    return _PROPAGATOR.extract({"traceparent": traceparent})


def traceparent_of(span: Span) -> str:
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier, context=trace.set_span_in_context(span))
    return carrier.get("traceparent", "")


class Tracing:
    """The control plane's side: one open ``invoke_agent`` span per running investigation."""

    def __init__(self, provider: TracerProvider | None = None, endpoint: str = "") -> None:
        self.provider = provider
        self.endpoint = endpoint  # handed to workers so they export to the same place
        self._tracer = provider.get_tracer(SCOPE) if provider is not None else None
        self._open: dict[str, Span] = {}
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self._tracer is not None

    def investigation_started(
        self,
        inv_id: str,
        *,
        agent: str,
        tier: str,
        chain_id: str,
        parent_id: str | None = None,
        phase: str = "",
    ) -> dict[str, str]:
        """Open the investigation's span; returns the environment that carries it to the worker."""
        if self._tracer is None:
            return {}
        with self._lock:
            parent = self._open.get(parent_id) if parent_id else None
            old = self._open.pop(inv_id, None)  # re-dispatched after a restart
        if old is not None:
            old.end()
        span = self._tracer.start_span(
            f"invoke_agent {agent}",
            context=trace.set_span_in_context(parent) if parent is not None else Context(),
            kind=SpanKind.CLIENT,
            attributes={
                OPERATION: "invoke_agent",
                AGENT_NAME: agent,
                AGENT_ID: agent,
                CONVERSATION_ID: inv_id,
                "nightshift.investigation.id": inv_id,
                "nightshift.chain.id": chain_id,
                "nightshift.parent.id": parent_id or "",
                "nightshift.tier": tier,
                "nightshift.trust_phase": phase,
            },
        )
        with self._lock:
            self._open[inv_id] = span
        env = {TRACEPARENT_ENV: traceparent_of(span)}
        if self.endpoint:
            env[OTLP_ENDPOINT_ENV] = self.endpoint
        return env

    def investigation_ended(self, inv_id: str, status: str, reason: str) -> None:
        with self._lock:
            span = self._open.pop(inv_id, None)
        if span is None:
            return
        span.set_attribute("nightshift.status", status)
        if status in _FAILED:
            span.set_status(Status(StatusCode.ERROR, reason[:500]))
            span.set_attribute(ERROR_TYPE, status)
        span.end()

    def open_spans(self) -> int:
        with self._lock:
            return len(self._open)

    def shutdown(self) -> None:
        with self._lock:
            spans, self._open = list(self._open.values()), {}
        for span in spans:
            span.end()
        if self.provider is not None:
            self.provider.shutdown()


def record_chat_span(
    tracer: trace.Tracer, parent: Context, data: Mapping[str, Any], *, now_ns: int | None = None
) -> None:
    """A ``chat {model}`` span for one ``llm.call`` event, placed at the call's own time."""
    call = LlmCall.from_event(data)
    end = now_ns if now_ns is not None else time.time_ns()
    start = end - int((call.latency_seconds or 0.0) * 1e9)
    attributes: dict[str, Any] = {
        OPERATION: "chat",
        PROVIDER: call.provider,
        REQUEST_MODEL: call.model,
        RESPONSE_MODEL: call.model,
        INPUT_TOKENS: call.input_tokens,
        OUTPUT_TOKENS: call.output_tokens,
        CACHED_TOKENS: call.cached_tokens,
    }
    if call.cost_usd is not None:
        attributes["nightshift.cost_usd"] = call.cost_usd
    span = tracer.start_span(
        f"chat {call.model}",
        context=parent,
        kind=SpanKind.CLIENT,
        start_time=start,
        attributes=attributes,
    )
    if call.error or call.status != "ok":
        span.set_attribute(ERROR_TYPE, call.status)
        span.set_status(Status(StatusCode.ERROR, (call.error or call.status)[:500]))
    span.end(end_time=end)
