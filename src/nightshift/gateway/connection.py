"""One long-lived MCP session per upstream server, shared by every agent's calls.

A session per call costs an ``initialize`` handshake (and, over stdio, a process
start) each time: most of a call's latency. The SDK's sessions are bound to the
task that opened them, so the session lives in a task of its own and calls reach
it through a stream; each call is answered on its own future, concurrently. If
the session breaks, the calls in flight fail, the next call reconnects.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from typing import Any

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from nightshift.sources.mcp_client import McpEndpoint, connect

log = logging.getLogger(__name__)
_QUEUE = 256  # calls waiting for the session's task; senders wait beyond that

Request = tuple[str, dict[str, Any], Mapping[str, Any], "asyncio.Future[Any]"]


class UpstreamError(ConnectionError):
    """The upstream session failed or closed before answering."""


class UpstreamConnection:
    def __init__(self, endpoint: McpEndpoint, name: str) -> None:
        self._endpoint = endpoint
        self._name = name
        self._send: MemoryObjectSendStream[Request] | None = None
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    async def call(
        self, tool: str, arguments: dict[str, Any], meta: Mapping[str, Any], timeout: float
    ) -> Any:
        reply: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        send = await self._open(timeout)
        try:
            await send.send((tool, arguments, meta, reply))
        except (anyio.BrokenResourceError, anyio.ClosedResourceError):
            raise UpstreamError(f"upstream {self._name!r} closed") from None
        return await asyncio.wait_for(reply, timeout)

    async def _open(self, timeout: float) -> MemoryObjectSendStream[Request]:
        async with self._lock:
            if self._send is None or self._task is None or self._task.done():
                send, receive = anyio.create_memory_object_stream[Request](_QUEUE)
                ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
                self._task = asyncio.create_task(self._serve(receive, ready))
                await asyncio.wait_for(asyncio.shield(ready), timeout)
                self._send = send
            return self._send

    async def _serve(
        self, receive: MemoryObjectReceiveStream[Request], ready: asyncio.Future[None]
    ) -> None:
        try:
            async with connect(self._endpoint) as client, anyio.create_task_group() as tg:
                ready.set_result(None)
                async for tool, arguments, meta, reply in receive:
                    tg.start_soon(_answer, client, tool, arguments, meta, reply)
        except Exception as exc:  # the session broke: fail what waits, reconnect next time
            log.warning("upstream %s session ended: %s: %s", self._name, type(exc).__name__, exc)
            if not ready.done():
                ready.set_exception(UpstreamError(f"cannot connect to {self._name!r}: {exc}"))
        finally:
            self._send = None
            with contextlib.suppress(anyio.WouldBlock, anyio.EndOfStream):
                while True:
                    *_, reply = receive.receive_nowait()
                    if not reply.done():
                        reply.set_exception(UpstreamError(f"upstream {self._name!r} closed"))

    async def close(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task


async def _answer(
    client: Any, tool: str, arguments: dict[str, Any], meta: Mapping[str, Any],
    reply: asyncio.Future[Any],
) -> None:  # fmt: skip
    try:
        result = await client.call_tool(tool, arguments, meta=dict(meta))
    except BaseException as exc:  # incl. cancellation when the session breaks
        if not reply.done():
            reply.set_exception(UpstreamError(f"{type(exc).__name__}: {exc}"))
        if not isinstance(exc, Exception):
            raise
        return
    if not reply.done():
        reply.set_result(result)
