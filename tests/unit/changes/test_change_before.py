"""The change feed keeps an object's state before the change (what revert-change
restores): a bounded JSON object, never a Secret, never anything that looks like a
credential; rejected input stores nothing."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from nightshift.api.schemas_changes import BEFORE_MAX_BYTES
from tests.support.control_plane import World
from tests.unit.changes.test_change_feed_api import change, post

POLICY = {"kind": "NetworkPolicy", "name": "checkout-egress", "namespace": "shop"}
SPEC = {"spec": {"podSelector": {"matchLabels": {"app": "checkout"}}, "egress": [{"to": []}]}}


def _stored(client: TestClient, world: World) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = client.get("/v1/changes", headers=world.auth("viewer")).json()
    return out


def test_a_change_records_the_objects_state_before_it_and_reads_it_back(
    client: TestClient, world: World
) -> None:
    resp = post(client, world, "sender", change(id="FW-1", target=POLICY, before=SPEC))
    assert resp.status_code == 201, resp.text
    assert resp.json()["before"] == SPEC
    assert _stored(client, world)[0]["before"] == SPEC
    plain = post(client, world, "sender", change(id="REL-2"))
    assert plain.status_code == 201 and plain.json()["before"] is None


def test_a_retry_with_another_before_is_a_conflict(client: TestClient, world: World) -> None:
    assert (
        post(client, world, "sender", change(id="FW-1", target=POLICY, before=SPEC)).status_code
        == 201
    )
    other: dict[str, Any] = {"spec": {"podSelector": {}}}
    clash = post(client, world, "sender", change(id="FW-1", target=POLICY, before=other))
    assert clash.status_code == 409 and "before" in clash.json()["message"]


def test_bad_before_is_refused_with_its_reason_and_nothing_is_stored(
    client: TestClient, world: World
) -> None:
    secret = {"kind": "Secret", "name": "db-creds", "namespace": "shop"}
    huge = {"spec": {"blob": "x" * (BEFORE_MAX_BYTES + 1)}}
    deep: dict[str, Any] = {"spec": {}}
    node = deep["spec"]
    for _ in range(40):
        node["n"] = {}
        node = node["n"]
    cases = [
        (change(id="A-1", target=secret, before={"data": {"k": "djE="}}), "Secret"),
        (change(id="A-2", target=POLICY, before={"kind": "Secret", "data": {}}), "Secret"),
        (change(id="A-3", target=POLICY, before=huge), "bytes"),
        (change(id="A-4", target=POLICY, before=deep), "deeper"),
        (change(id="A-5", target=POLICY, before=["spec"]), "before"),
        (change(id="A-6", target=POLICY, before={}), "empty"),
        (change(id="A-7", target="fw-dc-edge ruleset", before=SPEC), "object target"),
        (change(id="A-8", target=POLICY, before={"spec": {}, "status": {}}), "status"),
        (
            change(id="A-9", target=POLICY, before={"spec": {"env": {"api_token": "s3cr3t-val"}}}),
            "credential",
        ),
    ]
    for body, reason in cases:
        resp = post(client, world, "sender", body)
        assert resp.status_code in (400, 422), (body["id"], resp.text)
        assert reason in resp.text, (body["id"], resp.text)
    assert _stored(client, world) == []
