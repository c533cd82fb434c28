"""Who may call what: tokens, roles, worker scoping."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from nightshift.store.tables import ApiTokenRow
from tests.support.control_plane import World

SUBMIT = {"agent": "triage", "title": "checkout latency above SLO"}


def test_health_readiness_and_openapi_need_no_token(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").status_code == 200
    spec = client.get("/openapi.json").json()
    assert "/v1/investigations" in spec["paths"]
    assert "/v1/investigations/{inv_id}/events" in spec["paths"]


def test_every_state_changing_endpoint_refuses_a_missing_token(client: TestClient) -> None:
    for path, body in [
        ("/v1/investigations", SUBMIT),
        ("/v1/investigations/x/cancel", {}),
        ("/v1/agents", {"name": "a", "owner": "lead", "authority_class": "advisory"}),
        ("/v1/investigations/x/worker/events", {"events": [{"kind": "log"}]}),
        ("/v1/investigations/x/worker/result", {"status": "failed"}),
    ]:
        resp = client.post(path, json=body)
        assert resp.status_code == 401, path
        assert resp.headers["www-authenticate"] == "Bearer"


def test_reads_need_a_token_too(client: TestClient) -> None:
    assert client.get("/v1/investigations").status_code == 401
    assert client.get("/v1/agents").status_code == 401


def test_an_unknown_or_malformed_token_is_refused(client: TestClient) -> None:
    for header in ["Bearer nsh_not-a-real-token", "Bearer ", "Basic abc", "nsh_x"]:
        resp = client.get("/v1/investigations", headers={"Authorization": header})
        assert resp.status_code == 401, header


def test_a_viewer_can_read_but_not_submit(client: TestClient, world: World) -> None:
    assert client.get("/v1/investigations", headers=world.auth("viewer")).status_code == 200
    resp = client.post("/v1/investigations", json=SUBMIT, headers=world.auth("viewer"))
    assert resp.status_code == 403
    assert "operator" in resp.json()["message"]


def test_only_an_ops_lead_registers_agents(client: TestClient, world: World) -> None:
    body = {"name": "netbot", "owner": "lead", "authority_class": "advisory"}
    assert client.post("/v1/agents", json=body, headers=world.auth("operator")).status_code == 403
    resp = client.post("/v1/agents", json=body, headers=world.auth("lead"))
    assert resp.status_code == 201
    assert resp.json()["owner"] == "lead"


def test_tokens_are_stored_only_as_hashes(world: World) -> None:
    with world.container.db.read() as s:
        stored = list(s.scalars(select(ApiTokenRow.token_hash)))
    for token in world.tokens.values():
        assert token not in stored
        assert all(token not in h for h in stored)


def test_a_deactivated_users_token_stops_working(client: TestClient, world: World) -> None:
    world.container.principals.set_active("viewer", False)
    assert client.get("/v1/investigations", headers=world.auth("viewer")).status_code == 401


def _dispatched_worker(client: TestClient, world: World) -> tuple[str, dict[str, str]]:
    inv = client.post("/v1/investigations", json=SUBMIT, headers=world.auth("operator")).json()
    world.container.dispatcher.dispatch_once()
    launch = next(x for x in world.executor.launches if x.investigation_id == inv["id"])
    return inv["id"], {"Authorization": f"Bearer {launch.token}"}


def test_a_worker_token_reaches_only_its_own_investigation(
    client: TestClient, world: World
) -> None:
    inv_id, worker = _dispatched_worker(client, world)
    other = client.post("/v1/investigations", json=SUBMIT, headers=world.auth("operator")).json()
    assert client.get(f"/v1/investigations/{inv_id}/worker/spec", headers=worker).status_code == 200
    assert (
        client.get(f"/v1/investigations/{other['id']}/worker/spec", headers=worker).status_code
        == 403
    )
    # ... and it is no human: it cannot read the API, submit or cancel.
    assert client.get("/v1/investigations", headers=worker).status_code == 403
    assert client.post("/v1/investigations", json=SUBMIT, headers=worker).status_code == 403
    assert client.post(f"/v1/investigations/{inv_id}/cancel", headers=worker).status_code == 403


def test_a_worker_token_dies_with_its_investigation(client: TestClient, world: World) -> None:
    inv_id, worker = _dispatched_worker(client, world)
    done = client.post(
        f"/v1/investigations/{inv_id}/worker/result",
        json={"status": "succeeded", "reason": "diagnosed", "result": {"root_causes": []}},
        headers=worker,
    )
    assert done.status_code == 200
    again = client.get(f"/v1/investigations/{inv_id}/worker/spec", headers=worker)
    assert again.status_code == 401


def test_the_token_is_never_in_the_launch_repr(client: TestClient, world: World) -> None:
    _, worker = _dispatched_worker(client, world)
    token = worker["Authorization"].split()[1]
    assert token not in repr(world.executor.launches[0])


def test_not_ready_while_the_executor_warms_up(client: TestClient, world: World) -> None:
    """A local executor's worker template, started with the server, still importing:
    an investigation now would wait for it, so the instance is not ready yet."""
    executor: Any = world.executor
    executor.warm_up = lambda: None
    executor.warming = True
    warming = client.get("/readyz")
    assert warming.status_code == 503
    assert warming.json()["executor_warming_up"] is True
    executor.warming = False
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["executor_warming_up"] is False
