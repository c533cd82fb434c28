"""A real control plane and a real worker process export one trace to an OTLP
collector; /metrics on the live control plane agrees with the run."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tests.support.postgres import free_port
from tests.support.server import TERMINAL, ControlPlane

pytestmark = pytest.mark.slow
MakePlane = Callable[..., ControlPlane]


class _Collector:
    """Just enough OTLP/HTTP: stores the spans it receives with their service name."""

    def __init__(self) -> None:
        self.spans: list[tuple[str, Any]] = []
        self.lock = threading.Lock()
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                request = ExportTraceServiceRequest()
                request.ParseFromString(body)
                with collector.lock:
                    for rs in request.resource_spans:
                        service = next(
                            a.value.string_value
                            for a in rs.resource.attributes
                            if a.key == "service.name"
                        )
                        for ss in rs.scope_spans:
                            collector.spans.extend((service, s) for s in ss.spans)
                self.send_response(200)
                self.send_header("content-type", "application/x-protobuf")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def named(self, prefix: str) -> list[tuple[str, Any]]:
        with self.lock:
            return [(svc, s) for svc, s in self.spans if s.name.startswith(prefix)]


@pytest.fixture
def collector() -> Iterator[_Collector]:
    c = _Collector()
    thread = threading.Thread(target=c.server.serve_forever, daemon=True)
    thread.start()
    yield c
    c.server.shutdown()
    c.server.server_close()


def test_one_trace_spans_the_control_plane_and_the_worker_process(
    make_plane: MakePlane, collector: _Collector
) -> None:
    plane = make_plane(NIGHTSHIFT_OTLP_ENDPOINT=collector.url, OTEL_BSP_SCHEDULE_DELAY="100")
    plane.start()
    with plane.client() as client:
        inv = plane.submit(client, scenario="two-am-cascade", tier="multi-domain")
        done = plane.wait_for(client, inv["id"], TERMINAL, timeout=120)
        assert done["status"] in {"succeeded", "escalated"}, done
        calls = done["result"]["tool_calls"]
        deadline = time.monotonic() + 20  # batched exports: give them a moment
        while time.monotonic() < deadline and (
            not collector.named("invoke_agent") or len(collector.named("execute_tool")) < calls
        ):
            time.sleep(0.1)
        ((cp_service, agent),) = collector.named("invoke_agent")
        tools = collector.named("execute_tool")
        metrics = client.get("/metrics").text

    assert cp_service == "nightshift"
    assert len(tools) == calls
    assert {svc for svc, _ in tools} == {"nightshift-worker"}
    for _, span in tools:
        assert span.trace_id == agent.trace_id
        assert span.parent_span_id == agent.span_id
    attrs = {a.key: a.value.string_value for a in agent.attributes}
    assert attrs["nightshift.investigation.id"] == inv["id"]
    assert attrs["gen_ai.operation.name"] == "invoke_agent"
    assert 'nightshift_investigations_started_total{agent="triage"' in metrics
    assert "nightshift_investigation_duration_seconds_count" in metrics
