"""A shadow agent's output is not shown to operators until someone reviews it."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from nightshift.services.demo_identities import DEMO_BOUNDARIES
from tests.support.control_plane import World


def _finished_shadow_investigation(client: TestClient, world: World) -> str:
    world.container.agents.register(
        "quiet",
        owner="lead",
        authority_class="supervised",
        trust_phase="shadow",
        boundaries=DEMO_BOUNDARIES,
    )
    inv = client.post(
        "/v1/investigations",
        json={"agent": "quiet", "title": "p99 up"},
        headers=world.auth("operator"),
    ).json()["id"]
    world.container.dispatcher.dispatch_once()
    launch = next(x for x in world.executor.launches if x.investigation_id == inv)
    worker = {"Authorization": f"Bearer {launch.token}"}
    client.post(
        f"/v1/investigations/{inv}/worker/events",
        json={"events": [{"kind": "result", "data": {"summary": "firewall change"}}]},
        headers=worker,
    )
    client.post(
        f"/v1/investigations/{inv}/worker/result",
        json={
            "status": "succeeded",
            "reason": "firewall change broke 8443",
            "result": {"root_causes": [{"fault": "firewall-rule-change"}]},
        },
        headers=worker,
    )
    return str(inv)


def _events(client: TestClient, world: World, inv: str, who: str) -> str:
    with client.stream("GET", f"/v1/investigations/{inv}/events", headers=world.auth(who)) as r:
        return "".join(r.iter_text())


def test_operators_see_neither_result_nor_reasoning_of_unreviewed_shadow_work(
    client: TestClient, world: World
) -> None:
    inv = _finished_shadow_investigation(client, world)
    got = client.get(f"/v1/investigations/{inv}", headers=world.auth("operator")).json()
    assert got["status"] == "succeeded"
    assert got["result"] is None
    assert "firewall" not in got["reason"]
    listed = client.get("/v1/investigations", headers=world.auth("operator")).json()["items"]
    assert all("firewall" not in i["reason"] for i in listed)
    stream = _events(client, world, inv, "operator")
    assert "firewall" not in stream
    assert '"status": "succeeded"' in stream  # the lifecycle itself stays visible
    assert (
        client.get(f"/v1/investigations/{inv}/logs", headers=world.auth("operator")).status_code
        == 403
    )


def test_admins_review_it_and_then_operators_see_it(client: TestClient, world: World) -> None:
    inv = _finished_shadow_investigation(client, world)
    admin_view = client.get(f"/v1/investigations/{inv}", headers=world.auth("admin")).json()
    assert admin_view["result"] == {"root_causes": [{"fault": "firewall-rule-change"}]}
    queue = client.get("/v1/reviews/shadow", headers=world.auth("lead")).json()
    item = next(i for i in queue if json.dumps(i).find(inv) >= 0)
    done = client.post(
        f"/v1/reviews/shadow/{item['id']}/review",
        json={"note": "matches"},
        headers=world.auth("lead"),
    )
    assert done.status_code in (200, 204), done.text
    got = client.get(f"/v1/investigations/{inv}", headers=world.auth("operator")).json()
    assert got["result"] is not None
    assert "firewall" in _events(client, world, inv, "operator")
