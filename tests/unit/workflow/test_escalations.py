"""Escalations carry the evidence trail, are routed to the owner and on-call,
notified (Slack-compatible webhook), acknowledged and resolved."""

from __future__ import annotations

import json

import httpx
from fastapi.testclient import TestClient

from nightshift.domain.vocabulary import InvestigationStatus
from nightshift.notifications.fake import FakeNotifier
from nightshift.notifications.protocol import EscalationNotice, slack_payload
from nightshift.notifications.webhook import WebhookNotifier
from tests.support.control_plane import World
from tests.unit.workflow.flow import TWO_AM_RESULT, agent, finish, start

NOTICE = EscalationNotice(
    escalation_id="e1",
    kind="breaker",
    agent="triage",
    summary="breaker tripped after 15 cycles",
    routed_to=("lead@example.org", "oncall@example.org"),
    investigation_id="i1",
    details={"root_causes": TWO_AM_RESULT["root_causes"]},
)


def test_a_breaker_trip_escalates_with_the_full_evidence_trail(
    client: TestClient, world: World, notifier: FakeNotifier
) -> None:
    agent(world, "helper", "assist")
    inv_id, worker = start(client, world, "helper")
    finish(client, inv_id, worker, status="escalated")
    [esc] = client.get("/v1/escalations?status=open", headers=world.auth("viewer")).json()
    assert (esc["kind"], esc["investigation_id"], esc["phase"]) == ("breaker", inv_id, "assist")
    trail = esc["payload"]["trail"]
    assert trail["root_causes"][0]["fault"] == "firewall-rule-change"
    assert trail["evidence"] and trail["hypotheses"]
    assert esc["routed_to"] == ["lead@example.org", "oncall@example.org"]
    assert [n.escalation_id for n in notifier.sent] == [esc["id"]]
    shown = client.get(f"/v1/escalations/{esc['id']}", headers=world.auth("viewer")).json()
    assert shown["notifications"][0]["ok"] is True


def test_escalations_are_acknowledged_then_resolved_once(client: TestClient, world: World) -> None:
    agent(world, "helper", "assist")
    inv_id, worker = start(client, world, "helper")
    finish(client, inv_id, worker, status="escalated")
    [esc] = client.get("/v1/escalations", headers=world.auth("viewer")).json()
    url = f"/v1/escalations/{esc['id']}"
    assert client.post(f"{url}/ack", headers=world.auth("viewer")).status_code == 403
    assert (
        client.post(f"{url}/ack", json={"note": "on it"}, headers=world.auth("operator")).json()[
            "status"
        ]
        == "acked"
    )
    assert client.post(f"{url}/ack", headers=world.auth("operator")).status_code == 409
    done = client.post(
        f"{url}/resolve",
        json={"resolution": "reverted", "warranted": True},
        headers=world.auth("operator"),
    ).json()
    assert (done["status"], done["warranted"]) == ("resolved", True)
    again = client.post(f"{url}/resolve", json={"resolution": "x"}, headers=world.auth("operator"))
    assert again.status_code == 409
    intents = [r.entry.intent for r in world.container.audit.recent(20)]
    assert "on it" in intents and "reverted" in intents


def test_the_webhook_payload_is_slack_compatible() -> None:
    payload = slack_payload(NOTICE)
    assert payload["text"].startswith("[nightshift] breaker escalation for agent triage")
    kinds = [b["type"] for b in payload["blocks"]]
    assert kinds == ["header", "section", "section", "section", "context"]
    assert "firewall-rule-change on Change/k8s-prod-to-dc (0.73)" in json.dumps(payload)


def test_the_webhook_retries_server_errors_then_succeeds() -> None:
    seen: list[dict[str, object]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content))
        return httpx.Response(503 if len(seen) < 3 else 200)

    hook = WebhookNotifier(
        "https://hooks.example/x", retries=3, backoff=0, transport=httpx.MockTransport(handler)
    )
    delivery = hook.send(NOTICE)
    assert (delivery.ok, delivery.attempts) == (True, 3)
    assert seen[0]["text"] == slack_payload(NOTICE)["text"]


def test_the_webhook_gives_up_on_client_errors_without_retrying() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(404)

    hook = WebhookNotifier(
        "https://hooks.example/x", retries=5, backoff=0, transport=httpx.MockTransport(handler)
    )
    delivery = hook.send(NOTICE)
    assert (delivery.ok, delivery.error, len(calls)) == (False, "HTTP 404", 1)


def test_an_unreachable_webhook_is_recorded_not_raised() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    hook = WebhookNotifier(
        "https://hooks.example/x", retries=2, backoff=0, transport=httpx.MockTransport(handler)
    )
    delivery = hook.send(NOTICE)
    assert not delivery.ok and "ConnectError" in delivery.error
    assert delivery.attempts == 2  # every attempt is recorded, the last one included


def test_an_investigation_out_of_time_escalates_with_its_reason(
    client: TestClient, world: World, notifier: FakeNotifier
) -> None:
    # e.g. never admitted by Kueue before its tier's deadline: a human takes over
    agent(world, "slowpoke", "assist")
    inv_id, _worker = start(client, world, "slowpoke")
    why = "deadline exceeded while waiting for admission in Kueue (never admitted)"
    world.container.investigations.terminate(inv_id, InvestigationStatus.DEADLINE_EXCEEDED, why)
    [esc] = client.get("/v1/escalations?status=open", headers=world.auth("viewer")).json()
    assert (esc["kind"], esc["investigation_id"]) == ("deadline", inv_id)
    assert why in esc["summary"] and "ran out of time" in esc["summary"]
    assert [n.escalation_id for n in notifier.sent] == [esc["id"]]
