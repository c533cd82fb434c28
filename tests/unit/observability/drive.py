"""Run an investigation the way the worker does, in-process: dispatch it, fetch
its spec with the worker token, run the agent loop over the simulated world
(governed, optionally traced), post its events and its result."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from fastapi.testclient import TestClient

from nightshift.agent.api import stream_investigation
from nightshift.agent.events import AgentEvent
from nightshift.agent.reasoners.protocol import Reasoner
from nightshift.agent.tools.protocol import Toolset
from nightshift.domain.actions import load_action_catalog
from nightshift.domain.agent_codec import identity_from
from nightshift.domain.diagnosis import Diagnosis
from nightshift.observability.worker_trace import WorkerTrace
from nightshift.runtime.executors.protocol import WorkerLaunch
from nightshift.runtime.worker import build_limits, build_request
from nightshift.runtime.worker_policy import WorkerGovernance
from nightshift.scenarios import SimulatedWorld, load_scenario
from nightshift.worker_spec import WorkerSpec
from tests.support.control_plane import World


@dataclass
class Run:
    inv_id: str
    launch: WorkerLaunch
    spec: WorkerSpec
    events: list[AgentEvent]
    diagnosis: Diagnosis
    status: str


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
    extra_events: list[AgentEvent] | None = None,
) -> Run:
    launch = launch_of(world, inv_id)
    worker = {"Authorization": f"Bearer {launch.token}"}
    briefing = client.get(f"/v1/investigations/{inv_id}/worker/spec", headers=worker).json()
    spec = WorkerSpec.model_validate(briefing["spec"])
    request = build_request(spec)
    governance = WorkerGovernance(
        identity_from(briefing["identity"]), briefing["chain_id"], load_action_catalog()
    )
    assert spec.scenario is not None
    toolset: Toolset = governance.wrap(SimulatedWorld(load_scenario(spec.scenario)))
    if trace is not None:
        toolset = trace.wrap(toolset)

    async def loop() -> tuple[list[AgentEvent], Diagnosis]:
        events: list[AgentEvent] = []
        diagnosis: Diagnosis | None = None
        limits = build_limits(spec)
        async for item in stream_investigation(request, toolset, reasoner, limits):
            events.extend(governance.drain())
            if isinstance(item, Diagnosis):
                diagnosis = item
                continue
            events.append(item)
            if trace is not None:
                trace.observe(item)
        assert diagnosis is not None
        return events, diagnosis

    events, diagnosis = asyncio.run(loop())
    for event in extra_events or []:
        events.append(event)
        if trace is not None:
            trace.observe(event)
    payload = [e.to_dict() for e in events]
    for start in range(0, len(payload), 200):
        resp = client.post(
            f"/v1/investigations/{inv_id}/worker/events",
            json={"events": payload[start : start + 200]},
            headers=worker,
        )
        assert resp.status_code == 200, resp.text
    status = "escalated" if diagnosis.escalate else "succeeded"
    resp = client.post(
        f"/v1/investigations/{inv_id}/worker/result",
        json={"status": status, "reason": diagnosis.summary, "result": diagnosis.to_dict()},
        headers=worker,
    )
    assert resp.status_code == 200, resp.text
    return Run(inv_id, launch, spec, events, diagnosis, status)
