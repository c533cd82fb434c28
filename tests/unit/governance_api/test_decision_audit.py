"""Decisions the worker reports become audit records whose identity comes
from the control plane; asking beyond the boundary raises a review item."""

from __future__ import annotations

from fastapi.testclient import TestClient

from nightshift.services.concealment import UNCONCEALED
from tests.support.control_plane import World


def _worker(client: TestClient, world: World) -> tuple[str, dict[str, str]]:
    inv = client.post(
        "/v1/investigations",
        json={"agent": "triage", "title": "5xx"},
        headers=world.auth("operator"),
    ).json()["id"]
    world.container.dispatcher.dispatch_once()
    launch = next(x for x in world.executor.launches if x.investigation_id == inv)
    return inv, {"Authorization": f"Bearer {launch.token}"}


def _decision(outcome: str, reason: str, follow_up: str) -> dict[str, object]:
    return {
        "kind": "policy.decision",
        "data": {
            "tool": "firewall_rules",
            "params": {"target": "fw-edge"},
            "request": {"kind": "tool", "tool": "firewall_rules"},
            "decision": {
                "outcome": outcome,
                "reason": reason,
                "message": "m",
                "follow_up": follow_up,
            },
            "intent": "firewall change before the timeouts?",
            # A compromised worker cannot claim to be someone else:
            "actor": "root",
            "owner": "ceo",
        },
    }


def test_worker_decisions_are_audited_under_the_control_planes_identity(
    client: TestClient, world: World
) -> None:
    inv, worker = _worker(client, world)
    client.post(
        f"/v1/investigations/{inv}/worker/events",
        json={"events": [_decision("allow", "allowed", "none")]},
        headers=worker,
    )
    records = client.get(f"/v1/audit?investigation={inv}", headers=world.auth("lead")).json()
    assert len(records) == 1
    body = records[0]["record"]
    assert (body["actor"], body["owner"], body["authority_class"], body["phase"]) == (
        "triage",
        "lead",
        "supervised",
        "assist",
    )
    assert body["intent"] == "firewall change before the timeouts?"
    assert body["decision"] == "allow"
    assert client.get("/v1/audit/verify", headers=world.auth("viewer")).json()["ok"] is True


def test_an_out_of_scope_request_becomes_a_human_review_item(
    client: TestClient, world: World
) -> None:
    inv, worker = _worker(client, world)
    client.post(
        f"/v1/investigations/{inv}/worker/events",
        json={"events": [_decision("deny", "out_of_scope", "human_review")]},
        headers=worker,
    )
    items = client.get("/v1/reviews?kind=scope_widening", headers=world.auth("viewer")).json()
    assert len(items) == 1
    assert items[0]["investigation_id"] == inv
    assert items[0]["payload"]["intent"] == "firewall change before the timeouts?"


def test_a_batch_of_decisions_is_audited_in_order_and_chained_with_its_events(
    client: TestClient, world: World
) -> None:
    """A post carries many events; each decision still gets its own record, in
    the order the worker reported them, and the events keep their order."""
    inv, worker = _worker(client, world)
    first = _decision("allow", "allowed", "none")
    second = _decision("deny", "out_of_scope", "human_review")
    second["data"]["intent"] = "and the database pool?"  # type: ignore[index]
    log = {"kind": "log", "data": {"message": "between"}}
    for batch in ([log, first, log, second], [first]):
        resp = client.post(
            f"/v1/investigations/{inv}/worker/events", json={"events": batch}, headers=worker
        )
        assert resp.status_code == 200, resp.text
    records = client.get(f"/v1/audit?investigation={inv}", headers=world.auth("lead")).json()
    assert [(r["record"]["decision"], r["record"]["intent"]) for r in records] == [
        ("allow", "firewall change before the timeouts?"),
        ("deny", "and the database pool?"),
        ("allow", "firewall change before the timeouts?"),
    ]
    seqs = [r["seq"] for r in records]
    assert seqs == list(range(seqs[0], seqs[0] + 3))
    assert [r["prev_hash"] for r in records[1:]] == [r["hash"] for r in records[:-1]]
    assert client.get("/v1/audit/verify", headers=world.auth("viewer")).json()["ok"] is True
    events = world.container.investigations.events(inv, UNCONCEALED)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    posted = [e.kind for e in events if e.kind != "status"]  # status: queued, running...
    assert posted == [e["kind"] for e in (log, first, log, second, first)]
    reviews = client.get("/v1/reviews?kind=scope_widening", headers=world.auth("viewer")).json()
    assert [i["payload"]["intent"] for i in reviews] == ["and the database pool?"]
