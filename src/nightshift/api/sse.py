"""An investigation's events as server-sent events: one stream for the API and the console.

sse-starlette frames the stream, sends the keep-alives and stops the reader when the
client goes away; this module decides what is in it. Each batch is read as the
caller may see it (the service conceals shadow output), every event's id is its
sequence number so a reconnect resumes after the last one it saw, and the stream
ends with the investigation's terminal status.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator

from sse_starlette import EventSourceResponse, ServerSentEvent

from nightshift.api.timestamps import as_utc
from nightshift.domain.access import Caller
from nightshift.domain.vocabulary import InvestigationStatus
from nightshift.services.errors import Invalid
from nightshift.services.investigations import EventView, InvestigationService
from nightshift.services.ports import EventStream

# Event sequence numbers are 64-bit signed integers in every database.
MAX_SEQ = 2**63 - 1
# A quiet stream gets a keep-alive this often, so proxies keep it open; the events are
# read again as often even without a wake-up from the bus, which may miss one.
KEEP_ALIVE_SECONDS = 15.0
# Lines end in LF alone, as they always have here (the library's default is CRLF).
_SEP = "\n"
_DIGITS = re.compile(r"[0-9]+")


def resume_after(last_event_id: str | None) -> int:
    """The sequence a reconnecting client last saw; an id that is not ours is ignored."""
    if last_event_id is None or not _DIGITS.fullmatch(last_event_id):
        return 0
    seq = int(last_event_id[:30])
    if seq > MAX_SEQ:
        raise Invalid(f"header Last-Event-ID: {last_event_id[:30]} is past the largest event id")
    return seq


def event_stream(
    svc: InvestigationService,
    bus: EventStream,
    who: Caller,
    inv_id: str,
    after: int,
    *,
    follow: bool,
) -> EventSourceResponse:
    """The events of ``inv_id`` after ``after`` as ``who`` may see them; with ``follow``,
    then live until the investigation ends."""
    return EventSourceResponse(
        _events(svc, bus, who, inv_id, after, follow),
        headers={"Cache-Control": "no-cache"},
        ping=KEEP_ALIVE_SECONDS,
        sep=_SEP,
        ping_message_factory=_keep_alive,
    )


async def _events(
    svc: InvestigationService,
    bus: EventStream,
    who: Caller,
    inv_id: str,
    after: int,
    follow: bool,
) -> AsyncIterator[ServerSentEvent]:
    while True:
        batch = await asyncio.to_thread(svc.events, inv_id, who, after)
        for ev in batch:
            after = ev.seq
            yield _framed(ev)
            if ev.kind == "status" and InvestigationStatus(ev.data["status"]).terminal:
                return
        if batch:
            continue
        if not follow:
            return
        await bus.wait(inv_id, KEEP_ALIVE_SECONDS)  # a new event, or time to look anyway


def _framed(ev: EventView) -> ServerSentEvent:
    at = as_utc(ev.created_at).isoformat()
    payload = json.dumps({"seq": ev.seq, "kind": ev.kind, "at": at, "data": ev.data})
    return ServerSentEvent(payload, id=str(ev.seq), event=ev.kind, sep=_SEP)


def _keep_alive() -> ServerSentEvent:
    return ServerSentEvent(comment="keep-alive", sep=_SEP)
