"""The wrapper every source's toolset wears: bounded time, bounded answers, and a
source that is down, slow or talks garbage becomes evidence of that kind instead
of a crash. Cross-cutting, so it wraps; no adapter re-implements it."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from nightshift.agent.tools.protocol import ToolCall, ToolResult, Toolset, ToolSpec, ToolStatus
from nightshift.sources.config import SourceConfig

TRUNCATION_MARKER = "[truncated by nightshift: {dropped} more characters; narrow the query]"


def unavailable(source: SourceConfig, why: str) -> str:
    return f"source unavailable: {source.kind.value} source {source.name!r}: {why}"


def bounded(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters at a line break, with a marker saying so."""
    if len(text) <= limit:
        return text
    cut = text.rfind("\n", 0, limit)
    cut = cut if cut > limit // 2 else limit
    return text[:cut] + "\n" + TRUNCATION_MARKER.format(dropped=len(text) - cut)


class GuardedSource:
    __slots__ = ("_inner", "_source", "_specs")

    def __init__(self, inner: Toolset, source: SourceConfig) -> None:
        self._inner = inner
        self._source = source
        self._specs: Sequence[ToolSpec] = tuple(inner.specs())

    @property
    def source(self) -> SourceConfig:
        return self._source

    @property
    def inner(self) -> Toolset:
        return self._inner

    def specs(self) -> Sequence[ToolSpec]:
        return self._specs

    async def call(self, call: ToolCall) -> ToolResult:
        limit = self._source.timeout_seconds
        try:
            result = await asyncio.wait_for(self._inner.call(call), timeout=limit)
        except TimeoutError:
            why = unavailable(self._source, f"no answer within {limit:g} s")
            return ToolResult(ToolStatus.TIMEOUT, why, error=why)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a broken source is evidence, never a crash
            why = unavailable(self._source, f"{type(exc).__name__}: {exc}")
            return ToolResult(ToolStatus.ERROR, why, error=why)
        text = bounded(result.text, self._source.max_answer_chars)
        if text is result.text:
            return result
        return ToolResult(result.status, text, result.data, result.error)
