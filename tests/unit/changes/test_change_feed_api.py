"""The change feed API: who may post and read, strict input, filters, the worker's read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from nightshift.domain.vocabulary import PrincipalKind, Role
from nightshift.services.errors import Invalid
from tests.support.control_plane import World


def change(**over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "actor": "argocd (shop)",
        "summary": "checkout 1.4 -> 1.5",
        "at": (datetime.now(UTC) - timedelta(minutes=30)).isoformat(),
        "target": {"kind": "Deployment", "name": "checkout", "namespace": "shop"},
        "kind": "deploy",
        "domain": "application",
        "id": "REL-1500",
    }
    body.update(over)
    return body


def post(client: TestClient, world: World, who: str, body: dict[str, Any]) -> Any:
    return client.post("/v1/changes", json=body, headers=world.auth(who))


def test_an_operator_and_a_change_sender_may_post_a_change(
    client: TestClient, world: World
) -> None:
    resp = post(client, world, "operator", change())
    assert resp.status_code == 201, resp.text
    out = resp.json()
    assert out["ref"] == "REL-1500" and out["target"] == "shop/Deployment/checkout"
    assert out["submitted_by"] == "operator"
    sent = post(
        client,
        world,
        "sender",
        change(
            id="NET-5528",
            kind="firewall",
            domain="network",
            target="fw-dc-edge ruleset mail-relays",
        ),
    )
    assert sent.status_code == 201, sent.text
    assert sent.json()["target"] == "fw-dc-edge ruleset mail-relays"
    assert sent.json()["target_object"] is None


def test_viewers_and_workers_may_not_post_and_senders_may_not_read(
    client: TestClient, world: World
) -> None:
    assert post(client, world, "viewer", change()).status_code == 403
    assert client.post("/v1/changes", json=change()).status_code == 401
    assert client.get("/v1/changes", headers=world.auth("sender")).status_code == 403
    assert client.get("/v1/changes", headers=world.auth("viewer")).status_code == 200


def test_a_retried_post_is_the_same_change_and_a_different_one_with_that_id_conflicts(
    client: TestClient, world: World
) -> None:
    body = change()
    first = post(client, world, "sender", body)
    again = post(client, world, "sender", body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    clash = post(client, world, "sender", change(summary="checkout 1.5 -> 1.6"))
    assert clash.status_code == 409
    assert "summary" in clash.json()["message"]
    assert len(client.get("/v1/changes", headers=world.auth("viewer")).json()) == 1


def test_a_change_without_an_id_gets_one_the_reasoner_can_cite(
    client: TestClient, world: World
) -> None:
    body = change()
    del body["id"]
    ref = post(client, world, "operator", body).json()["ref"]
    assert ref.startswith("CHG-") and ref[4:].isdigit()


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"actor": ""}, "actor"),
        ({"summary": "x" * 501}, "summary"),
        ({"summary": "two\nlines"}, "summary"),
        ({"at": "2026-12-02T02:00:00"}, "at"),
        ({"kind": "rollback"}, "kind"),
        ({"domain": "marketing"}, "domain"),
        ({"link": "javascript:alert(1)"}, "link"),
        ({"id": "has spaces"}, "id"),
        ({"target": "x" * 201}, "target"),
        ({"target": {"kind": "Deployment", "name": "a", "namespace": "Bad_NS"}}, "target"),
        ({"details": "d" * 4001}, "details"),
        ({"extra": 1}, "extra"),
    ],
)
def test_invalid_changes_are_refused_naming_the_field(
    client: TestClient, world: World, over: dict[str, Any], field: str
) -> None:
    resp = post(client, world, "operator", change(**over))
    assert resp.status_code == 422, resp.text
    assert any(d["field"].startswith(f"body.{field}") for d in resp.json()["details"])


def test_a_change_in_the_future_is_refused(client: TestClient, world: World) -> None:
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    resp = post(client, world, "operator", change(at=later))
    assert resp.status_code == 422
    assert resp.json()["message"].startswith("at: ")


def test_missing_fields_are_named(client: TestClient, world: World) -> None:
    body = change()
    del body["target"]
    resp = post(client, world, "operator", body)
    assert resp.status_code == 422
    assert "body.target" in {d["field"] for d in resp.json()["details"]}


def test_listing_filters_by_time_domain_kind_and_target(client: TestClient, world: World) -> None:
    now = datetime.now(UTC)
    post(client, world, "sender", change(id="OLD-1", at=(now - timedelta(days=3)).isoformat()))
    post(
        client,
        world,
        "sender",
        change(
            id="NET-1",
            kind="firewall",
            domain="network",
            target="fw-edge ruleset smtp",
            at=(now - timedelta(minutes=5)).isoformat(),
        ),
    )
    post(client, world, "sender", change(id="REL-2", at=(now - timedelta(minutes=20)).isoformat()))
    viewer = world.auth("viewer")

    def refs(**params: str) -> list[str]:
        resp = client.get("/v1/changes", params=params, headers=viewer)
        assert resp.status_code == 200, resp.text
        return [c["ref"] for c in resp.json()]

    assert refs() == ["NET-1", "REL-2", "OLD-1"]  # newest first
    assert refs(since="1h") == ["NET-1", "REL-2"]
    assert refs(since=(now - timedelta(minutes=10)).isoformat()) == ["NET-1"]
    assert refs(domain="network") == ["NET-1"]
    assert refs(kind="deploy", since="2d") == ["REL-2"]
    assert refs(target="SMTP") == ["NET-1"]
    assert refs(target="%") == []  # a wildcard is a literal character here
    bad = client.get("/v1/changes", params={"since": "yesterday"}, headers=viewer)
    assert bad.status_code == 422 and "since" in bad.json()["message"]


def test_the_worker_reads_the_window_and_only_its_own_investigation(
    client: TestClient, world: World
) -> None:
    now = datetime.now(UTC)
    post(client, world, "sender", change(id="REL-9", at=(now - timedelta(minutes=10)).isoformat()))
    post(client, world, "sender", change(id="REL-8", at=(now - timedelta(hours=5)).isoformat()))
    ids = []
    for title in ("a", "b"):
        resp = client.post(
            "/v1/investigations",
            json={"agent": "triage", "title": title},
            headers=world.auth("operator"),
        )
        assert resp.status_code in (201, 202), resp.text
        ids.append(resp.json()["id"])
    world.container.dispatcher.dispatch_once()
    tokens = {x.investigation_id: x.token for x in world.executor.launches}
    mine = {"Authorization": f"Bearer {tokens[ids[0]]}"}
    resp = client.get(
        f"/v1/investigations/{ids[0]}/worker/changes", params={"since_minutes": 60}, headers=mine
    )
    assert resp.status_code == 200, resp.text
    assert [c["ref"] for c in resp.json()["changes"]] == ["REL-9"]
    other = client.get(f"/v1/investigations/{ids[1]}/worker/changes", headers=mine)
    assert other.status_code == 403
    human = client.get(f"/v1/investigations/{ids[0]}/worker/changes", headers=world.auth("admin"))
    assert human.status_code == 403
    worker_post = client.post("/v1/changes", json=change(id="W-1"), headers=mine)
    assert worker_post.status_code == 403


def test_change_sender_is_a_service_role_held_alone(world: World) -> None:
    principals = world.container.principals
    with pytest.raises(Invalid):
        principals.create_user(
            "bob",
            kind=PrincipalKind.HUMAN,
            roles=frozenset({Role.CHANGE_SENDER}),
            contact="bob@example.org",
        )
    with pytest.raises(Invalid):
        principals.create_user(
            "cd", kind=PrincipalKind.SERVICE, roles=frozenset({Role.CHANGE_SENDER, Role.VIEWER})
        )
