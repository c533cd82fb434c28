"""One trace per investigation, with the GenAI semantic-convention names, across
the control plane -> worker boundary (W3C traceparent in the worker's environment)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from nightshift.agent.tools.protocol import ToolCall, ToolResult, ToolSpec, ToolStatus
from nightshift.domain.vocabulary import Domain
from nightshift.domain.vocabulary import InvestigationStatus as S
from nightshift.observability.tracing import TRACEPARENT_ENV, Tracing, otlp_provider
from nightshift.observability.worker_trace import WorkerTrace
from tests.support.control_plane import World
from tests.support.in_process_worker import ReportingModelCalls, launch_of, run, submit

LLM_CALL = {
    "provider": "anthropic",
    "model": "claude-test",
    "input_tokens": 900,
    "output_tokens": 120,
    "cached_tokens": 600,
    "latency_ms": 1500.0,
    "cost_usd": 0.002,
    "status": "ok",
    "error": None,
}


@pytest.fixture
def spans(world: World) -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    world.container.telemetry.tracing = Tracing(provider)
    yield exporter
    provider.shutdown()


def _worker_trace(world: World, inv_id: str, exporter: InMemorySpanExporter) -> WorkerTrace:
    provider = world.container.telemetry.tracing.provider
    traceparent = launch_of(world, inv_id).extra_env[TRACEPARENT_ENV]
    return WorkerTrace(provider, traceparent, inv_id, owns_provider=False)


def _by_op(finished: tuple[ReadableSpan, ...], op: str) -> list[ReadableSpan]:
    return [s for s in finished if (s.attributes or {}).get("gen_ai.operation.name") == op]


def test_a_full_investigation_is_one_trace_with_genai_spans(
    client: TestClient, world: World, spans: InMemorySpanExporter
) -> None:
    inv_id = submit(client, world, "two-am-cascade")
    trace = _worker_trace(world, inv_id, spans)
    r = run(client, world, inv_id, trace=trace, reasoner=ReportingModelCalls([LLM_CALL]))
    finished = spans.get_finished_spans()

    (agent,) = _by_op(finished, "invoke_agent")
    assert agent.name == "invoke_agent triage"
    attrs = agent.attributes or {}
    assert attrs["gen_ai.agent.name"] == "triage"
    assert attrs["nightshift.investigation.id"] == inv_id
    assert attrs["nightshift.chain.id"] == inv_id
    assert attrs["nightshift.status"] == r.status

    tools = _by_op(finished, "execute_tool")
    assert len(tools) == r.result["tool_calls"]
    assert {s.name for s in tools} == {f"execute_tool {e['tool']}" for e in r.result["evidence"]}
    assert all(str((s.attributes or {})["gen_ai.tool.name"]) in s.name for s in tools)

    (chat,) = _by_op(finished, "chat")
    assert chat.name == "chat claude-test"
    c = chat.attributes or {}
    assert (c["gen_ai.provider.name"], c["gen_ai.request.model"]) == ("anthropic", "claude-test")
    assert (c["gen_ai.usage.input_tokens"], c["gen_ai.usage.output_tokens"]) == (900, 120)
    assert c["gen_ai.usage.cache_read.input_tokens"] == 600
    assert chat.end_time is not None and chat.start_time is not None
    assert chat.end_time - chat.start_time == 1_500_000_000

    assert agent.context is not None
    for child in (*tools, chat):
        assert child.context is not None and child.parent is not None
        assert child.context.trace_id == agent.context.trace_id
        assert child.parent.span_id == agent.context.span_id


def test_a_failed_investigation_ends_its_span_with_an_error(
    client: TestClient, world: World, spans: InMemorySpanExporter
) -> None:
    inv_id = submit(client, world, "two-am-cascade")
    launch_of(world, inv_id)
    world.executor.exit(inv_id, S.FAILED, "worker crashed with exit code 1")
    (span,) = spans.get_finished_spans()
    assert span.status.status_code is StatusCode.ERROR
    assert (span.attributes or {})["error.type"] == "failed"
    assert world.container.telemetry.tracing.open_spans() == 0


class _Denying:
    def specs(self) -> list[ToolSpec]:
        return [ToolSpec("kubectl_get", "get", Domain.KUBERNETES, {})]

    async def call(self, call: ToolCall) -> ToolResult:
        return ToolResult(ToolStatus.DENIED, "", error="out of scope")


async def test_a_denied_tool_call_is_an_error_span(spans: InMemorySpanExporter) -> None:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    trace = WorkerTrace(provider, "00-" + "ab" * 16 + "-" + "cd" * 8 + "-01", "inv-1")
    await trace.wrap(_Denying()).call(ToolCall("kubectl_get", {"kind": "pods"}))
    trace.close()
    (span,) = spans.get_finished_spans()
    assert span.status.status_code is StatusCode.ERROR
    assert span.parent is not None and span.parent.span_id == int("cd" * 8, 16)


def test_tracing_is_off_by_default(client: TestClient, world: World) -> None:
    assert otlp_provider("", "nightshift") is None
    assert not world.container.telemetry.tracing.enabled
    inv_id = submit(client, world, "two-am-cascade")
    assert TRACEPARENT_ENV not in launch_of(world, inv_id).extra_env
    untraced = _Denying()
    assert WorkerTrace(None, "", inv_id).wrap(untraced) is untraced


def test_an_otlp_endpoint_turns_on_the_exporter_and_reaches_the_worker(
    spans: InMemorySpanExporter,
) -> None:
    exporting = otlp_provider("http://collector:4318", "nightshift", "x-key=abc")
    assert isinstance(exporting, TracerProvider)
    exporting.shutdown()  # nothing recorded, nothing sent
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    tracing = Tracing(provider, "http://collector:4318")
    env = tracing.investigation_started(
        "inv-1", agent="triage", tier="single-domain", chain_id="inv-1"
    )
    assert env["NIGHTSHIFT_OTLP_ENDPOINT"] == "http://collector:4318"
    assert env[TRACEPARENT_ENV].startswith("00-")
    tracing.shutdown()
    assert [s.name for s in spans.get_finished_spans()] == ["invoke_agent triage"]
