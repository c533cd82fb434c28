"""``logs_search`` and ``security_events`` over one log store (either backend).

Boundaries: a namespace outside the agent's is denied; with no namespace named, an
agent limited to some namespaces searches only those. The security streams
(``settings.security_query``) are a deployment-level choice of the operator and
are read whole, filtered by the call's ``target``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from nightshift.agent.tools.catalog import LOGS_SEARCH, SECURITY_EVENTS
from nightshift.agent.tools.protocol import ToolCall, ToolResult, ToolSpec, ToolStatus
from nightshift.sources.context import SourceContext
from nightshift.sources.logs_http import QueryRejected
from nightshift.sources.logs_query import (
    MAX_WINDOW_MINUTES,
    LogQuery,
    LogsBackend,
    LogsSettings,
    page_data,
    render_page,
)
from nightshift.sources.logs_security import render_security


class LogsToolset:
    def __init__(
        self,
        backend: LogsBackend,
        settings: LogsSettings,
        context: SourceContext,
        source_name: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._backend = backend
        self._settings = settings
        self._context = context
        self._source = source_name
        self._clock = clock

    def specs(self) -> Sequence[ToolSpec]:
        if self._settings.security is None:
            return (LOGS_SEARCH,)
        return (LOGS_SEARCH, SECURITY_EVENTS)

    async def call(self, call: ToolCall) -> ToolResult:
        try:
            if call.name == LOGS_SEARCH.name:
                return await self._logs_search(call.params)
            if call.name == SECURITY_EVENTS.name and self._settings.security is not None:
                return await self._security_events(call.params)
        except QueryRejected as exc:
            why = f"the log store rejected the query: {exc}"
            return ToolResult(ToolStatus.ERROR, why, error=why)
        except _BadParams as exc:
            return ToolResult(ToolStatus.ERROR, str(exc), error=str(exc))
        except _OutOfBounds as exc:
            return ToolResult(ToolStatus.DENIED, "", error=str(exc))
        why = f"{call.name} is not answered by log source {self._source!r}"
        return ToolResult(ToolStatus.NO_DATA, why, error=why)

    # -- tools ----------------------------------------------------------------------------

    async def _logs_search(self, p: Mapping[str, Any]) -> ToolResult:
        s = self._settings
        pattern = _text(p, "pattern")
        namespace, app = _text(p, "namespace"), _text(p, "app")
        streams: dict[str, str] = {}
        one_of: tuple[str, tuple[str, ...]] | None = None
        if namespace:
            if not self._context.allows_namespace(namespace):
                raise _OutOfBounds(f"namespace {namespace!r} is outside this agent's boundaries")
            streams[s.namespace_label] = namespace
        elif not self._context.all_namespaces:
            allowed = tuple(sorted(self._context.namespaces))
            if not allowed:
                raise _OutOfBounds("this agent's boundaries grant no namespace")
            one_of = (s.namespace_label, allowed)
        if app:
            streams[s.app_label] = app
        regex = bool(p.get("regex", False))
        window = _window(p, s.window_minutes)
        start_ns, end_ns = self._span(window)
        query = LogQuery(
            streams=streams,
            one_of=one_of,
            contains=() if regex or not pattern else (pattern,),
            regex=pattern if regex and pattern else None,
            limit=_limit(p, s),
            start_ns=start_ns,
            end_ns=end_ns,
        )
        page = await self._backend.search(query, s.count_matches)
        if not page.lines:
            why = f"no log lines matched {pattern!r} in the last {window} min"
            return ToolResult(ToolStatus.NO_DATA, why, page_data(page))
        return ToolResult(ToolStatus.OK, render_page(page, s, window), page_data(page))

    async def _security_events(self, p: Mapping[str, Any]) -> ToolResult:
        s = self._settings
        assert s.security is not None
        sec = s.security
        window = _window(p, s.window_minutes)
        target = _text(p, "target")
        start_ns, end_ns = self._span(window)
        contains = tuple(x for x in (None if sec.regex else sec.pattern, target) if x)
        query = LogQuery(
            streams=sec.streams,
            contains=contains,
            regex=sec.pattern if sec.regex and sec.pattern else None,
            limit=s.default_limit,
            start_ns=start_ns,
            end_ns=end_ns,
        )
        page = await self._backend.search(query, s.count_matches)
        if not page.lines:
            why = f"no security events in the last {window} min"
            return ToolResult(ToolStatus.NO_DATA, why, page_data(page))
        text, events = render_security(page, self._source, window, self._context.allows_namespace)
        if not events:
            return ToolResult(ToolStatus.NO_DATA, text, {**page_data(page), "events": []})
        return ToolResult(ToolStatus.OK, text, {**page_data(page), "events": events})

    def _span(self, window_minutes: int) -> tuple[int, int]:
        end_ns = int(self._clock() * 1e9)
        return end_ns - window_minutes * 60_000_000_000, end_ns


class _BadParams(ValueError):
    pass


class _OutOfBounds(PermissionError):
    pass


def _text(p: Mapping[str, Any], key: str) -> str:
    value = p.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _BadParams(f"{key} must be a string")
    return value.strip() if key != "pattern" else value


def _bounded_int(p: Mapping[str, Any], key: str, default: int, high: int) -> int:
    value = p.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= high:
        raise _BadParams(f"{key} must be an integer between 1 and {high}")
    return value


def _window(p: Mapping[str, Any], default: int) -> int:
    return _bounded_int(p, "since_minutes", default, MAX_WINDOW_MINUTES)


def _limit(p: Mapping[str, Any], s: LogsSettings) -> int:
    return _bounded_int(p, "limit", s.default_limit, s.max_limit)
