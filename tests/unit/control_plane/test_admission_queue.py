"""Admission: a bounded, durable, priority-then-FIFO queue with concurrency caps."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from nightshift.domain.vocabulary import InvestigationStatus as S
from nightshift.services.demo_identities import DEMO_BOUNDARIES
from tests.support.control_plane import World


@pytest.fixture
def wakes(world: World, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Each time the dispatcher is woken (it then claims what the queue holds)."""
    woken: list[str] = []
    monkeypatch.setattr(world.container.dispatcher, "wake", lambda: woken.append("wake"))
    return woken


def _submit(client: TestClient, world: World, **extra: object) -> dict[str, object]:
    body = {"agent": "triage", "title": "disk pressure on node-3", **extra}
    resp = client.post("/v1/investigations", json=body, headers=world.auth("operator"))
    assert resp.status_code == 201, resp.text
    return dict(resp.json())


def _register_second_agent(world: World) -> None:
    world.container.agents.register(
        "netbot", owner="lead", authority_class="supervised", boundaries=DEMO_BOUNDARIES
    )


def test_a_full_queue_answers_429_with_retry_after_and_keeps_what_it_accepted(
    client: TestClient, world: World
) -> None:
    # Caps: 1 running per agent; capacity 5 waiting. Stop the dispatcher from
    # draining by keeping the single slot busy.
    first = _submit(client, world)
    world.container.dispatcher.dispatch_once()
    accepted = [first] + [_submit(client, world) for _ in range(5)]
    resp = client.post(
        "/v1/investigations",
        json={"agent": "triage", "title": "one too many"},
        headers=world.auth("operator"),
    )
    assert resp.status_code == 429
    assert int(resp.headers["retry-after"]) >= 1
    assert resp.json()["error"] == "queue_full"
    page = client.get("/v1/investigations?limit=200", headers=world.auth("viewer")).json()
    assert {i["id"] for i in page["items"]} == {a["id"] for a in accepted}


def test_dispatch_takes_priority_first_then_submission_order(
    client: TestClient, world: World
) -> None:
    low1 = _submit(client, world, priority=3)
    low2 = _submit(client, world, priority=3)
    urgent = _submit(client, world, priority=0)
    order = []
    for _ in range(3):
        world.container.dispatcher.dispatch_once()
        launched = world.executor.launches[-1].investigation_id
        order.append(launched)
        world.executor.exit(launched, S.FAILED, "test frees the slot")
    assert order == [urgent["id"], low1["id"], low2["id"]]


def test_the_per_agent_cap_leaves_room_for_other_agents(client: TestClient, world: World) -> None:
    _register_second_agent(world)
    a1 = _submit(client, world)
    a2 = _submit(client, world)
    b1 = _submit(client, world, agent="netbot")
    started = world.container.dispatcher.dispatch_once()
    launched = {x.investigation_id for x in world.executor.launches}
    assert started == 2
    assert launched == {a1["id"], b1["id"]}
    got = client.get(f"/v1/investigations/{a2['id']}", headers=world.auth("viewer")).json()
    assert got["status"] == "queued"


def test_the_global_cap_bounds_running_units(client: TestClient, world: World) -> None:
    _register_second_agent(world)
    world.container.agents.register(
        "dbbot", owner="lead", authority_class="supervised", boundaries=DEMO_BOUNDARIES
    )
    for agent in ("triage", "netbot", "dbbot"):
        _submit(client, world, agent=agent)
    world.container.dispatcher.dispatch_once()
    assert world.executor.running() == 2  # max_running=2 in this fixture


def test_an_executor_that_cannot_start_fails_the_investigation_with_the_reason(
    client: TestClient, world: World
) -> None:
    world.executor.fail_next_start = OSError("fork: resource temporarily unavailable")
    inv = _submit(client, world)
    world.container.dispatcher.dispatch_once()
    got = client.get(f"/v1/investigations/{inv['id']}", headers=world.auth("viewer")).json()
    assert got["status"] == "failed"
    assert "fork" in got["reason"]


def test_an_inactive_owner_holds_the_agents_submissions(client: TestClient, world: World) -> None:
    world.container.principals.set_active("lead", False)
    inv = _submit(client, world)
    assert inv["status"] == "held"
    assert "owner" in str(inv["reason"])
    world.container.dispatcher.dispatch_once()
    assert world.executor.launches == []


def test_the_dispatcher_wakes_for_submissions_and_ends_not_for_each_worker_batch(
    client: TestClient, world: World, wakes: list[str]
) -> None:
    dispatcher = world.container.dispatcher
    inv = _submit(client, world)
    assert wakes == ["wake"]  # a submission entered the queue
    dispatcher.dispatch_once()
    token = next(x for x in world.executor.launches if x.investigation_id == inv["id"]).token
    worker = {"Authorization": f"Bearer {token}"}
    events = [{"kind": "log", "data": {"message": f"step {i}"}} for i in range(3)]
    for _ in range(5):  # a worker's batches free no slot and queue nothing
        resp = client.post(
            f"/v1/investigations/{inv['id']}/worker/events", json={"events": events}, headers=worker
        )
        assert resp.status_code == 200, resp.text
    assert wakes == ["wake"]
    world.executor.exit(inv["id"], S.FAILED, "test frees the slot")
    assert wakes == ["wake", "wake"]  # the end freed a slot


def _suspend(client: TestClient, world: World) -> None:
    resp = client.post(
        "/v1/agents/triage/suspend", json={"reason": "maintenance"}, headers=world.auth("lead")
    )
    assert resp.status_code == 204, resp.text


def test_a_released_hold_wakes_the_dispatcher_once_it_is_committed(
    client: TestClient, world: World, wakes: list[str]
) -> None:
    dispatcher = world.container.dispatcher
    _suspend(client, world)
    held = [_submit(client, world), _submit(client, world)]
    assert [h["status"] for h in held] == ["held", "held"]
    assert wakes == []  # held work is not in the queue
    resp = client.post("/v1/agents/triage/resume", headers=world.auth("lead"))
    assert resp.status_code == 204, resp.text
    # Both re-queued in one transaction, each told once it committed: the
    # dispatcher need not wait for its safety timer.
    assert wakes == ["wake", "wake"]
    assert dispatcher.dispatch_once() == 1  # the per-agent cap: one runs


def test_a_requeue_rolled_back_tells_no_one(
    client: TestClient, world: World, wakes: list[str]
) -> None:
    from nightshift.store.tables import InvestigationRow

    _suspend(client, world)
    inv = _submit(client, world)

    def requeue_then_fail() -> None:
        with world.container.db.transaction() as s:
            row = s.get(InvestigationRow, inv["id"])
            assert row is not None
            world.container.investigations.transition(s, row, S.QUEUED, "released")
            raise RuntimeError("the transaction fails after the re-queue")

    with pytest.raises(RuntimeError):
        requeue_then_fail()
    assert wakes == []
    got = client.get(f"/v1/investigations/{inv['id']}", headers=world.auth("viewer")).json()
    assert got["status"] == "held"
