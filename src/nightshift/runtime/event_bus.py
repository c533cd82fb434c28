"""In-process notification that an investigation has new events.

Followers (SSE streams) wait here instead of polling the database; the
database stays the source of truth, so a missed wake-up only delays a
follower until its next timeout, it never loses an event. Writers may be
threads (sync routes), so wake-ups hop onto each waiter's loop safely.
"""

from __future__ import annotations

import asyncio
import threading
from collections import defaultdict


class EventBus:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiters: dict[str, set[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = (
            defaultdict(set)
        )

    def publish(self, investigation_id: str) -> None:
        with self._lock:
            waiters = list(self._waiters.get(investigation_id, ()))
        for loop, event in waiters:
            if not loop.is_closed():
                loop.call_soon_threadsafe(event.set)

    async def wait(self, investigation_id: str, timeout: float) -> bool:
        """True when woken by a publish, False on timeout."""
        loop = asyncio.get_running_loop()
        event = asyncio.Event()
        key = (loop, event)
        with self._lock:
            self._waiters[investigation_id].add(key)
        try:
            async with asyncio.timeout(timeout):
                await event.wait()
            return True
        except TimeoutError:
            return False
        finally:
            with self._lock:
                bucket = self._waiters.get(investigation_id)
                if bucket is not None:
                    bucket.discard(key)
                    if not bucket:
                        del self._waiters[investigation_id]
