"""Group commit for the gateway's audit records.

Every governed call appends one hash-chained record. Appended one transaction
each, concurrent calls queue on the chain's head row and each pays a commit; a
single writer instead appends whatever has queued since its last commit in one
transaction (``AuditService.append``, so the chain is sealed by the same code,
in submission order, under the same head-row lock as every other writer). Each
caller awaits the commit that holds its record: a record is durable before the
caller goes on, and an append that fails fails every call of its batch.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

import anyio

from nightshift.observability.audit_chain import AuditEntry

MAX_BATCH = 128  # records per transaction; more wait for the next one

Pending = tuple[AuditEntry, "asyncio.Future[None]"]


class AuditBatcher:
    def __init__(self, append: Callable[[Sequence[AuditEntry]], object]) -> None:
        self._append = append
        self._queue: list[Pending] = []
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._committing: list[Pending] = []

    async def write(self, entry: AuditEntry) -> None:
        """Append ``entry``; returns once it is committed (raises if it was not)."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append((entry, done))
        if self._task is None or self._task.done():
            self._wake = asyncio.Event()
            self._task = asyncio.create_task(self._run(self._wake), name="gateway-audit")
        assert self._wake is not None
        self._wake.set()
        # shielded: a caller that goes away still has its record written
        await asyncio.shield(done)

    async def _run(self, wake: asyncio.Event) -> None:
        while True:
            await wake.wait()
            wake.clear()
            while self._queue:
                batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
                self._committing = batch
                entries = [entry for entry, _ in batch]
                try:
                    with anyio.CancelScope(shield=True):  # never abandon a started commit
                        await anyio.to_thread.run_sync(self._append, entries)
                except Exception as exc:
                    for _, done in batch:
                        if not done.done():
                            done.set_exception(exc)
                else:
                    for _, done in batch:
                        if not done.done():
                            done.set_result(None)

    async def close(self) -> None:
        """Stop the writer once nothing waits (what was queued is written first)."""
        waiting = [done for _, done in (*self._committing, *self._queue)]
        await asyncio.gather(*waiting, return_exceptions=True)
        if self._task is not None:
            self._task.cancel()
            with anyio.CancelScope(shield=True):
                await asyncio.gather(self._task, return_exceptions=True)
