"""The investigation event stream's wire format, which the CLI (httpx-sse) and the
console (EventSource) read: LF-framed events whose id is the sequence number and
whose name is the event's kind, and a comment as the keep-alive."""

from __future__ import annotations

import json
import re

from fastapi.testclient import TestClient

from nightshift.api.sse import KEEP_ALIVE_SECONDS, event_stream
from nightshift.domain.access import Caller
from nightshift.domain.vocabulary import PrincipalKind, Role
from tests.support.control_plane import World
from tests.unit.web.console import finished

FRAME = re.compile(r"id: (\d+)\nevent: ([\w.]+)\ndata: (\{[^\n]*\})")


def test_each_event_is_one_lf_framed_block_named_by_its_kind(
    client: TestClient, world: World
) -> None:
    inv_id, _ = finished(client, world)
    resp = client.get(f"/v1/investigations/{inv_id}/events", headers=world.auth("viewer"))
    assert resp.headers["content-type"].startswith("text/event-stream")
    assert resp.headers["cache-control"] == "no-cache"
    assert "\r" not in resp.text and resp.text.endswith("\n\n")
    blocks = resp.text.removesuffix("\n\n").split("\n\n")
    frames = [FRAME.fullmatch(b) for b in blocks]
    assert blocks and all(frames), blocks
    for m in frames:
        assert m is not None
        payload = json.loads(m.group(3))
        assert (payload["seq"], payload["kind"]) == (int(m.group(1)), m.group(2))
        assert set(payload) == {"seq", "kind", "at", "data"}
    last = json.loads(blocks[-1].split("data: ", 1)[1])
    assert last["kind"] == "status" and last["data"]["status"] == "succeeded"  # then it ends


def test_a_quiet_stream_is_kept_alive_by_a_comment_every_15_seconds(world: World) -> None:
    c = world.container
    viewer = Caller("v", PrincipalKind.HUMAN, frozenset({Role.VIEWER}))
    resp = event_stream(c.investigations, c.bus, viewer, "x", 0, follow=True)  # never read
    assert resp.ping_interval == KEEP_ALIVE_SECONDS == 15.0
    assert resp.ping_message_factory is not None
    assert resp.ping_message_factory().encode() == b": keep-alive\n\n"
