"""What the worker sends to its control plane, redacted at one place.

Every body the worker reports (events, proposals, its result) goes through a
``RedactingPoster``, so no call site can forget to redact. It redacts when it
sends, not when the body is built: secrets the worker learns later (its domain
credentials) are scrubbed from anything still waiting in a batch. The requests
that must carry a secret (redeeming the secrets hand-off) use the raw client.
"""

from __future__ import annotations

import json
import time
from typing import Any

import httpx

from nightshift.agent.events import AgentEvent, EventKind
from nightshift.observability.redaction import Redactor
from nightshift.runtime import worker_post

# investigation.started goes out at once: it is what marks the investigation
# running, and holding it until the first cycle ends would hide a live worker.
_FLUSH_KINDS = frozenset({
    EventKind.INVESTIGATION_STARTED, EventKind.CYCLE_FINISHED, EventKind.RESULT,
    EventKind.BREAKER_TRIPPED,
})  # fmt: skip
# A batch goes out at a flush kind, after _FLUSH_SECONDS, or when it holds
# _BATCH events or _BATCH_BYTES of JSON, whichever comes first. Each POST costs
# the control plane a request (~4 ms of CPU here) however small it is, so a
# batch is as large as the body cap allows: a quarter of the default 256 KiB
# leaves room for redaction and one large event (the schema takes 500 events).
_BATCH = 200
_BATCH_BYTES = 64 * 1024
_FLUSH_SECONDS = 0.25


class RedactingPoster:
    """POSTs JSON bodies to the control plane, each redacted as it is sent (and
    retried as ``worker_post`` retries)."""

    def __init__(self, client: httpx.AsyncClient, redactor: Redactor) -> None:
        self._client = client
        self._redactor = redactor

    async def post(self, path: str, body: dict[str, Any]) -> httpx.Response:
        redacted: dict[str, Any] = self._redactor.redact_obj(body)
        return await worker_post.post(self._client, path, redacted)


class Uplink:
    """Batches one investigation's events (one POST per cycle, not per event)."""

    def __init__(self, poster: RedactingPoster, inv_id: str) -> None:
        self._poster = poster
        self._path = f"/v1/investigations/{inv_id}/worker/events"
        self._buffer: list[dict[str, Any]] = []
        self._bytes = 0
        self._last = time.monotonic()

    async def add(self, event: AgentEvent) -> None:
        body = event.to_dict()
        self._buffer.append(body)
        self._bytes += len(json.dumps(body, separators=(",", ":"), default=str))
        due = time.monotonic() - self._last > _FLUSH_SECONDS
        full = len(self._buffer) >= _BATCH or self._bytes >= _BATCH_BYTES
        if event.kind in _FLUSH_KINDS or full or due:
            await self.flush()

    async def flush(self) -> None:
        if not self._buffer:
            return
        batch, self._buffer, self._bytes = self._buffer, [], 0
        resp = await self._poster.post(self._path, {"events": batch})
        resp.raise_for_status()
        self._last = time.monotonic()
