"""The kill switch stops everything at once; a runaway chain is stopped by
the breaker within one hop."""

from __future__ import annotations

from fastapi.testclient import TestClient

from nightshift.governance.containment import parse_header, to_header
from tests.support.control_plane import World


def _submit(client: TestClient, world: World, agent: str = "triage") -> str:
    resp = client.post(
        "/v1/investigations",
        json={"agent": agent, "title": "cpu spike"},
        headers=world.auth("operator"),
    )
    assert resp.status_code == 201, resp.text
    return str(resp.json()["id"])


def _status(client: TestClient, world: World, inv_id: str) -> tuple[str, str]:
    got = client.get(f"/v1/investigations/{inv_id}", headers=world.auth("viewer")).json()
    return got["status"], got["reason"]


def test_the_global_kill_switch_stops_running_and_queued_work_and_refuses_new(
    client: TestClient, world: World
) -> None:
    running = _submit(client, world)
    world.container.dispatcher.dispatch_once()
    queued = _submit(client, world)
    resp = client.post(
        "/v1/kill-switch", json={"reason": "agents misbehaving"}, headers=world.auth("lead")
    )
    assert resp.json() == {"stopped": 2}
    for inv in (running, queued):
        status, reason = _status(client, world, inv)
        assert status == "cancelled"
        assert "kill switch" in reason
    assert running in world.executor.stopped
    refused = client.post(
        "/v1/investigations", json={"agent": "triage", "title": "x"}, headers=world.auth("operator")
    )
    assert refused.status_code == 409
    assert "kill switch" in refused.json()["message"]
    client.post("/v1/kill-switch/release", json={"reason": "fixed"}, headers=world.auth("lead"))
    _submit(client, world)


def test_a_per_agent_kill_switch_leaves_other_agents_alone(
    client: TestClient, world: World
) -> None:
    from nightshift.services.demo_identities import DEMO_BOUNDARIES

    world.container.agents.register(
        "netbot", owner="lead", authority_class="supervised", boundaries=DEMO_BOUNDARIES
    )
    mine, other = _submit(client, world), _submit(client, world, "netbot")
    client.post(
        "/v1/kill-switch", json={"agent": "triage", "reason": "loops"}, headers=world.auth("lead")
    )
    assert _status(client, world, mine)[0] == "cancelled"
    assert _status(client, world, other)[0] == "queued"


def test_only_an_ops_lead_pulls_the_kill_switch(client: TestClient, world: World) -> None:
    resp = client.post("/v1/kill-switch", json={"reason": "x"}, headers=world.auth("operator"))
    assert resp.status_code == 403


def _running_worker(client: TestClient, world: World, agent: str) -> tuple[str, dict[str, str]]:
    inv = _submit(client, world, agent)
    world.container.dispatcher.dispatch_once()
    launch = next(x for x in world.executor.launches if x.investigation_id == inv)
    headers = {"Authorization": f"Bearer {launch.token}"}
    client.post(
        f"/v1/investigations/{inv}/worker/events",
        json={"events": [{"kind": "log", "data": {}}]},
        headers=headers,
    )
    return inv, headers


def _agents(world: World, *names: str, max_depth: int = 3) -> None:
    from nightshift.services.demo_identities import DEMO_BOUNDARIES

    for name in names:
        world.container.agents.register(
            name,
            owner="lead",
            authority_class="supervised",
            trust_phase="assist",
            boundaries={**DEMO_BOUNDARIES, "max_depth": max_depth},
        )


def test_a_to_b_to_a_trips_the_breaker_within_one_hop(client: TestClient, world: World) -> None:
    _agents(world, "agent-a", "agent-b")
    a_inv, a_worker = _running_worker(client, world, "agent-a")
    hop = client.post(
        f"/v1/investigations/{a_inv}/worker/delegate",
        json={"agent": "agent-b", "title": "check the database side"},
        headers=a_worker,
    )
    assert hop.status_code == 201, hop.text
    b_inv = hop.json()["id"]
    assert hop.json()["depth"] == 1
    world.container.dispatcher.dispatch_once()
    launch = next(x for x in world.executor.launches if x.investigation_id == b_inv)
    b_worker = {"Authorization": f"Bearer {launch.token}"}
    client.post(
        f"/v1/investigations/{b_inv}/worker/events",
        json={"events": [{"kind": "log", "data": {}}]},
        headers=b_worker,
    )
    spec = client.get(f"/v1/investigations/{b_inv}/worker/spec", headers=b_worker).json()
    chain = parse_header(spec["spec"]["chain_header"])
    assert chain.path == ("agent-a", "agent-b")
    back = client.post(
        f"/v1/investigations/{b_inv}/worker/delegate",
        json={"agent": "agent-a", "title": "ask A again"},
        headers={**b_worker, "Nightshift-Chain": to_header(chain)},
    )
    assert back.status_code == 409
    assert back.json()["error"] == "chain_breaker_tripped"
    assert "cycle" in back.json()["message"]
    for inv in (a_inv, b_inv):
        status, reason = _status(client, world, inv)
        assert status == "cancelled"
        assert "chain breaker" in reason


def test_a_chain_deeper_than_its_boundary_is_stopped(client: TestClient, world: World) -> None:
    _agents(world, "agent-a", "agent-b", "agent-c", max_depth=1)
    a_inv, a_worker = _running_worker(client, world, "agent-a")
    hop = client.post(
        f"/v1/investigations/{a_inv}/worker/delegate",
        json={"agent": "agent-b", "title": "one level down"},
        headers=a_worker,
    )
    assert hop.status_code == 201, hop.text
    b_inv = hop.json()["id"]
    world.container.dispatcher.dispatch_once()
    launch = next(x for x in world.executor.launches if x.investigation_id == b_inv)
    b_worker = {"Authorization": f"Bearer {launch.token}"}
    client.post(
        f"/v1/investigations/{b_inv}/worker/events",
        json={"events": [{"kind": "log", "data": {}}]},
        headers=b_worker,
    )
    deeper = client.post(
        f"/v1/investigations/{b_inv}/worker/delegate",
        json={"agent": "agent-c", "title": "two levels down"},
        headers=b_worker,
    )
    assert deeper.status_code == 409
    assert "depth" in deeper.json()["message"]
    assert _status(client, world, a_inv)[0] == "cancelled"
    assert _status(client, world, b_inv)[0] == "cancelled"


def test_a_malformed_chain_header_is_refused_and_stops_nothing(
    client: TestClient, world: World
) -> None:
    _agents(world, "agent-a", "agent-b")
    a_inv, a_worker = _running_worker(client, world, "agent-a")
    hop = client.post(
        f"/v1/investigations/{a_inv}/worker/delegate",
        json={"agent": "agent-b", "title": "x"},
        headers={**a_worker, "Nightshift-Chain": "v=9;garbage"},
    )
    assert hop.status_code == 422
    assert _status(client, world, a_inv)[0] == "running"


def test_an_exhausted_chain_budget_trips_the_breaker(client: TestClient, world: World) -> None:
    _agents(world, "agent-a", "agent-b")
    a_inv, a_worker = _running_worker(client, world, "agent-a")
    spent = to_header(
        parse_header(
            f"v=1;id={a_inv};depth=0;path=agent-a;max-depth=3;tokens=0;cost=0;wall=0;calls=0"
        )
    )
    hop = client.post(
        f"/v1/investigations/{a_inv}/worker/delegate",
        json={"agent": "agent-b", "title": "more"},
        headers={**a_worker, "Nightshift-Chain": spent},
    )
    assert hop.status_code == 409
    assert "budget" in hop.json()["message"]
