"""Everything the worker reports is redacted as it is sent, and events go in batches."""

from __future__ import annotations

import json
from typing import Any

import httpx

from nightshift.agent.events import AgentEvent, EventKind
from nightshift.observability.redaction import REDACTED, Redactor
from nightshift.runtime.uplink import RedactingPoster, Uplink


def _poster(sent: list[tuple[str, Any]], redactor: Redactor) -> RedactingPoster:
    def handle(request: httpx.Request) -> httpx.Response:
        sent.append((request.url.path, json.loads(request.content)))
        return httpx.Response(200, json={})

    client = httpx.AsyncClient(base_url="http://cp", transport=httpx.MockTransport(handle))
    return RedactingPoster(client, redactor)


async def test_a_posted_body_is_redacted_at_every_depth() -> None:
    sent: list[tuple[str, Any]] = []
    poster = _poster(sent, Redactor(["hunter2-secret"]))
    body = {"reason": "saw hunter2-secret", "result": {"notes": ["hunter2-secret"], "token": "x"}}
    await poster.post("/v1/investigations/i/worker/result", body)
    assert sent == [
        (
            "/v1/investigations/i/worker/result",
            {"reason": f"saw {REDACTED}", "result": {"notes": [REDACTED], "token": REDACTED}},
        )
    ]
    assert body["reason"] == "saw hunter2-secret"  # the caller's body is left as it was


async def test_a_secret_learned_after_an_event_was_queued_is_still_redacted() -> None:
    sent: list[tuple[str, Any]] = []
    redactor = Redactor([])
    uplink = Uplink(_poster(sent, redactor), "inv-1")
    await uplink.add(AgentEvent(EventKind.LOG, {"message": "connected with s3cret-value"}))
    redactor.add("s3cret-value")
    await uplink.flush()
    ((path, body),) = sent
    assert path == "/v1/investigations/inv-1/worker/events"
    assert "s3cret-value" not in json.dumps(body)


async def test_events_wait_for_a_cycle_boundary_and_go_in_one_post() -> None:
    sent: list[tuple[str, Any]] = []
    uplink = Uplink(_poster(sent, Redactor([])), "inv-1")
    await uplink.add(AgentEvent(EventKind.LOG, {"message": "one"}))
    await uplink.add(AgentEvent(EventKind.LOG, {"message": "two"}))
    assert sent == []
    await uplink.add(AgentEvent(EventKind.CYCLE_FINISHED, {"cycle": 1}))
    ((_, body),) = sent
    assert [e["kind"] for e in body["events"]] == ["log", "log", "cycle.finished"]
    await uplink.flush()  # nothing left: no empty POST
    assert len(sent) == 1


async def test_a_batch_goes_out_before_it_outgrows_the_body_cap() -> None:
    sent: list[tuple[str, Any]] = []
    uplink = Uplink(_poster(sent, Redactor([])), "inv-1")
    big = "x" * 5000  # a long tool answer's summary
    for i in range(40):  # 200 KB of events in one cycle: near the default 256 KiB cap
        await uplink.add(AgentEvent(EventKind.TOOL_ANSWERED, {"n": i, "summary": big}))
    await uplink.flush()
    sizes = [len(json.dumps(body)) for _, body in sent]
    assert len(sent) >= 3
    assert max(sizes) < 80 * 1024
    assert [e["data"]["n"] for _, body in sent for e in body["events"]] == list(range(40))
