"""The real worker (``run_worker``) against the real app, in this process.

The worker talks to the app through ``httpx.ASGITransport`` with the token and
secrets hand-off its launch carries, exactly as a spawned worker would; a
recording transport keeps what it fetched and what it sent, so a test can
compare the control plane's view with the worker's.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi.testclient import TestClient

from nightshift.agent.events import AgentEvent, EventKind
from nightshift.agent.reasoners.offline.reasoner import OfflineReasoner
from nightshift.agent.reasoners.protocol import Observation, Plan, Reasoner, ReasoningSession
from nightshift.agent.request import InvestigationRequest
from nightshift.agent.tools.protocol import ToolCall, ToolResult, ToolSpec
from nightshift.domain.diagnosis import Diagnosis, ResourceRef
from nightshift.observability.redaction import Redactor
from nightshift.observability.worker_trace import WorkerTrace
from nightshift.runtime.executors.protocol import WorkerLaunch
from nightshift.runtime.worker import control_plane_client, run_worker
from nightshift.worker_settings import WorkerSettings
from nightshift.worker_spec import WorkerSpec
from tests.support.control_plane import World

BASE_URL = "http://nightshift.test"


@dataclass
class Run:
    inv_id: str
    launch: WorkerLaunch
    spec: WorkerSpec
    events: list[AgentEvent]  # every event the worker posted, in order
    result: dict[str, Any]  # the diagnosis it reported (Diagnosis.to_dict)
    status: str  # the status it reported


@dataclass
class _Exchange:
    method: str
    path: str
    sent: Any
    status: int
    answer: Any


@dataclass
class _Recording(httpx.AsyncBaseTransport):
    """The app, in-process; every request and its answer kept."""

    inner: httpx.AsyncBaseTransport
    exchanges: list[_Exchange] = field(default_factory=list)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        content = await response.aread()
        self.exchanges.append(
            _Exchange(
                request.method,
                request.url.path,
                _json(request.content),
                response.status_code,
                _json(content),
            )
        )
        return httpx.Response(response.status_code, headers=response.headers, content=content)

    def answer_to(self, method: str, suffix: str) -> Any:
        (found,) = [x for x in self.exchanges if x.method == method and x.path.endswith(suffix)]
        assert found.status == 200, found
        return found.answer if method == "GET" else found.sent


def _json(content: bytes) -> Any:
    try:
        return json.loads(content) if content else None
    except ValueError:
        return content.decode(errors="replace")


def submit(client: TestClient, world: World, scenario: str, agent: str = "triage") -> str:
    resp = client.post(
        "/v1/investigations",
        json={"agent": agent, "scenario": scenario},
        headers=world.auth("operator"),
    )
    assert resp.status_code == 201, resp.text
    return str(resp.json()["id"])


def launch_of(world: World, inv_id: str) -> WorkerLaunch:
    world.container.dispatcher.dispatch_once()
    return next(x for x in world.executor.launches if x.investigation_id == inv_id)


def run(
    client: TestClient,
    world: World,
    inv_id: str,
    *,
    trace: WorkerTrace | None = None,
    reasoner: Reasoner | None = None,
) -> Run:
    """Dispatch ``inv_id`` and run its worker to the end, as the launched unit would."""
    launch = launch_of(world, inv_id)
    handoff = launch.secrets_handoff
    secrets = WorkerSettings.from_env(
        {}, secrets_backend=launch.secrets_backend, secrets_handoff=handoff
    )
    recording = _Recording(httpx.ASGITransport(app=client.app))

    async def work() -> int:
        async with control_plane_client(BASE_URL, launch.token, transport=recording) as http:
            return await run_worker(
                inv_id, http, secrets, Redactor([launch.token, handoff]), trace, reasoner
            )

    exit_code = asyncio.run(work())
    assert exit_code == 0, recording.exchanges[-1]
    if handoff:  # it redeemed its secrets hand-off, once, as a launched worker does
        recording.answer_to("POST", "/worker/credentials/redeem")
    spec = WorkerSpec.model_validate(recording.answer_to("GET", "/worker/spec")["spec"])
    events = [
        AgentEvent(EventKind(e["kind"]), e["data"])
        for x in recording.exchanges
        if x.path.endswith("/worker/events")
        for e in _accepted(x)["events"]
    ]
    reported = recording.answer_to("POST", "/worker/result")
    return Run(
        inv_id,
        launch,
        spec,
        events,
        reported.get("result", {}),
        reported["status"],
    )


def _accepted(exchange: _Exchange) -> Mapping[str, Any]:
    assert exchange.status == 200, exchange
    sent: Mapping[str, Any] = exchange.sent
    return sent


class ReportingModelCalls:
    """The offline reasoner, reporting the given model calls (``llm.call``) as an LLM
    reasoner reports its own: one with each of its first plans."""

    name = "offline"

    def __init__(self, calls: Sequence[Mapping[str, Any]]) -> None:
        self._calls = list(calls)
        self._inner = OfflineReasoner()
        self._pending: list[AgentEvent] = []

    def start(self, request: InvestigationRequest, tools: Sequence[ToolSpec]) -> ReasoningSession:
        return _Reporting(self._inner.start(request, tools), self)

    def plan_made(self) -> None:
        if self._calls:
            self._pending.append(AgentEvent(EventKind.LLM_CALL, self._calls.pop(0)))

    def drain_events(self) -> list[AgentEvent]:
        out, self._pending = self._pending, []
        return out

    def finalize(self, diagnosis: Diagnosis) -> Diagnosis:
        return diagnosis


@dataclass
class _Reporting:
    inner: ReasoningSession
    reasoner: ReportingModelCalls

    async def plan(self) -> Plan:
        self.reasoner.plan_made()
        return await self.inner.plan()

    async def observe(self, call: ToolCall, result: ToolResult, evidence_id: str) -> Observation:
        return await self.inner.observe(call, result, evidence_id)

    def explain(self, resource: ResourceRef, fault: str) -> str:
        return self.inner.explain(resource, fault)
