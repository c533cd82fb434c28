"""The worker's POSTs to its control plane, retried when they certainly did not land.

A control plane under load may answer 429 (its rate limit) or 503 (its storage is
busy or read-only for a moment), or refuse the connection while it restarts. None
of these processed the request, so sending it again duplicates nothing; a worker
that gave up instead would lose its events, its proposals or its result. A timeout
is not retried: the request may have landed, and the caller decides.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

_RETRIED = frozenset({429, 503})
_BACKOFF = (0.2, 0.5, 1.0, 2.0, 4.0)  # about 8 s in all, before giving up
_MAX_WAIT = 5.0  # a Retry-After longer than this is capped


async def post(client: httpx.AsyncClient, url: str, body: dict[str, Any]) -> httpx.Response:
    """POST ``body``; on 429/503 or a refused connection wait and send it again, a few
    times. Returns the last response (the caller checks its status); raises the last
    connection error."""
    # Hand-rolled, not tenacity: only a certain non-delivery is resent, never a timeout (issue 18).
    for wait in (*_BACKOFF, None):
        try:
            resp = await client.post(url, json=body)
        except httpx.ConnectError:
            if wait is None:
                raise
        else:
            if resp.status_code not in _RETRIED or wait is None:
                return resp
            wait = _retry_after(resp, wait)
        await asyncio.sleep(wait)
    raise AssertionError("unreachable")  # the loop returns or raises on its last turn


def _retry_after(resp: httpx.Response, default: float) -> float:
    try:
        return min(_MAX_WAIT, max(0.0, float(resp.headers.get("retry-after", default))))
    except ValueError:
        return default
