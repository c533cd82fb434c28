"""Every investigation reaches a terminal state with a reason, and the event
stream tells the whole story."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from nightshift.domain.vocabulary import InvestigationStatus as S
from tests.support.control_plane import World


def _submit(client: TestClient, world: World) -> str:
    resp = client.post(
        "/v1/investigations",
        json={"agent": "triage", "title": "payments 5xx"},
        headers=world.auth("operator"),
    )
    return str(resp.json()["id"])


def _worker(world: World, inv_id: str) -> dict[str, str]:
    world.container.dispatcher.dispatch_once()
    launch = next(x for x in world.executor.launches if x.investigation_id == inv_id)
    return {"Authorization": f"Bearer {launch.token}"}


def _sse(client: TestClient, world: World, inv_id: str, query: str = "") -> list[dict[str, object]]:
    events = []
    with client.stream(
        "GET", f"/v1/investigations/{inv_id}/events{query}", headers=world.auth("viewer")
    ) as resp:
        assert resp.headers["content-type"].startswith("text/event-stream")
        for line in resp.iter_lines():
            if line.startswith("data:"):
                events.append(json.loads(line[5:]))
    return events


def test_first_worker_event_marks_running_and_result_ends_it(
    client: TestClient, world: World
) -> None:
    inv_id = _submit(client, world)
    worker = _worker(world, inv_id)
    resp = client.post(
        f"/v1/investigations/{inv_id}/worker/events",
        json={"events": [{"kind": "investigation.started", "data": {"question": "q"}}]},
        headers=worker,
    )
    assert resp.status_code == 200
    got = client.get(f"/v1/investigations/{inv_id}", headers=world.auth("viewer")).json()
    assert got["status"] == "running"
    client.post(
        f"/v1/investigations/{inv_id}/worker/result",
        json={"status": "escalated", "reason": "breaker tripped", "result": {"cycles": 8}},
        headers=worker,
    )
    got = client.get(f"/v1/investigations/{inv_id}", headers=world.auth("viewer")).json()
    assert (got["status"], got["reason"], got["result"]) == (
        "escalated",
        "breaker tripped",
        {"cycles": 8},
    )


def test_the_event_stream_replays_history_and_ends_at_the_terminal_status(
    client: TestClient, world: World
) -> None:
    inv_id = _submit(client, world)
    worker = _worker(world, inv_id)
    client.post(
        f"/v1/investigations/{inv_id}/worker/events",
        json={"events": [{"kind": "tool.requested", "data": {"tool": "kubectl_get"}}]},
        headers=worker,
    )
    client.post(
        f"/v1/investigations/{inv_id}/worker/result",
        json={"status": "succeeded", "reason": "ok"},
        headers=worker,
    )
    events = _sse(client, world, inv_id)
    kinds = [e["kind"] for e in events]
    assert kinds == ["status", "status", "status", "tool.requested", "status"]
    statuses = [e["data"]["status"] for e in events if e["kind"] == "status"]  # type: ignore[index]
    assert statuses == ["queued", "dispatched", "running", "succeeded"]
    assert [e["seq"] for e in events] == [1, 2, 3, 4, 5]
    # Resuming after seq 3 gives only what came later.
    assert [e["seq"] for e in _sse(client, world, inv_id, "?after=3")] == [4, 5]


def test_a_crashed_worker_fails_its_investigation_with_the_executors_reason(
    client: TestClient, world: World
) -> None:
    inv_id = _submit(client, world)
    _worker(world, inv_id)
    world.executor.exit(inv_id, S.FAILED, "worker killed by signal SIGKILL")
    got = client.get(f"/v1/investigations/{inv_id}", headers=world.auth("viewer")).json()
    assert got["status"] == "failed"
    assert got["reason"] == "worker killed by signal SIGKILL"
    assert got["resources"]["cpu_seconds"] == 0.1


def test_a_late_exit_report_does_not_overwrite_the_workers_own_result(
    client: TestClient, world: World
) -> None:
    inv_id = _submit(client, world)
    worker = _worker(world, inv_id)
    client.post(
        f"/v1/investigations/{inv_id}/worker/result",
        json={"status": "succeeded", "reason": "diagnosed"},
        headers=worker,
    )
    world.executor.exit(inv_id, S.FAILED, "worker exited without reporting a result")
    got = client.get(f"/v1/investigations/{inv_id}", headers=world.auth("viewer")).json()
    assert (got["status"], got["reason"]) == ("succeeded", "diagnosed")


def test_cancel_stops_the_unit_and_records_who(client: TestClient, world: World) -> None:
    inv_id = _submit(client, world)
    _worker(world, inv_id)
    resp = client.post(
        f"/v1/investigations/{inv_id}/cancel",
        json={"reason": "duplicate of INC-42"},
        headers=world.auth("operator"),
    )
    assert resp.json()["status"] == "cancelled"
    assert resp.json()["reason"] == "cancelled by operator: duplicate of INC-42"
    assert inv_id in world.executor.stopped
    again = client.post(f"/v1/investigations/{inv_id}/cancel", headers=world.auth("operator"))
    assert again.status_code == 409


def test_a_worker_may_not_claim_a_control_plane_status(client: TestClient, world: World) -> None:
    inv_id = _submit(client, world)
    worker = _worker(world, inv_id)
    resp = client.post(
        f"/v1/investigations/{inv_id}/worker/result",
        json={"status": "cancelled"},
        headers=worker,
    )
    assert resp.status_code == 422


def test_list_filters_by_status_and_pages_with_a_cursor(client: TestClient, world: World) -> None:
    ids = [_submit(client, world) for _ in range(4)]
    viewer = world.auth("viewer")
    first = client.get("/v1/investigations?limit=3", headers=viewer).json()
    assert [i["id"] for i in first["items"]] == ids[::-1][:3]
    rest = client.get(
        f"/v1/investigations?limit=3&cursor={first['next_cursor']}", headers=viewer
    ).json()
    assert [i["id"] for i in rest["items"]] == [ids[0]]
    assert rest["next_cursor"] is None
    world.container.dispatcher.dispatch_once()
    queued = client.get("/v1/investigations?status=queued", headers=viewer).json()
    assert len(queued["items"]) == 3


def test_the_worker_log_is_served_per_investigation(client: TestClient, world: World) -> None:
    inv_id = _submit(client, world)
    _worker(world, inv_id)
    resp = client.get(f"/v1/investigations/{inv_id}/logs", headers=world.auth("viewer"))
    assert resp.status_code == 200
    assert inv_id in resp.text


def test_leases_are_revoked_even_when_the_unit_cannot_be_stopped(
    client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    inv_id = _submit(client, world)
    _worker(world, inv_id)
    revoked: list[str] = []
    broker = world.container.credentials.broker
    real_revoke = broker.revoke_all

    def spy(investigation_id: str, **kwargs: object) -> None:
        revoked.append(investigation_id)
        real_revoke(investigation_id, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(broker, "revoke_all", spy)
    world.executor.fail_stop = ConnectionError("kube-apiserver unreachable")
    resp = client.post(
        f"/v1/investigations/{inv_id}/cancel",
        json={"reason": "stop"},
        headers=world.auth("operator"),
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["status"] == "cancelled"
    assert revoked == [inv_id]
