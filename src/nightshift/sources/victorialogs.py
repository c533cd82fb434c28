"""VictoriaLogs as the log store (LogsQL over ``/select/logsql/query``).

The query is ``_stream:{namespace="x",app="y"} *"pattern"*``: a stream filter on the
labels (or, with ``settings.stream_filter: false``, field filters ``namespace:="x"``
for stores whose namespace is a plain field) and a substring filter whose text is
a quoted literal, so quotes, ``|`` pipes or ``*`` in a pattern are matched, never
parsed. With ``regex: true`` it is a regexp filter ``~"..."`` instead.

``limit=N`` makes VictoriaLogs return the N matching entries with the biggest
``_time``; the answer is JSON lines, read as a stream and abandoned at the limit,
so memory stays bounded however many lines match. The match count comes from a
second query ending in ``| stats count()``.

Settings (besides the common ones in logs_query): ``stream_filter`` (default
true), ``account_id`` / ``project_id`` (the tenant headers). Credentials from the
broker: ``token`` (bearer) or ``username`` + ``password`` (basic), for a store
behind vmauth or a proxy.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any

import httpx

from nightshift.agent.tools.protocol import Toolset
from nightshift.sources.config import SourceConfig, SourcesError
from nightshift.sources.context import SourceContext
from nightshift.sources.logs_http import (
    StoreConnection,
    bounded_lines,
    raise_for_store,
    read_capped,
)
from nightshift.sources.logs_query import (
    LogLine,
    LogPage,
    LogQuery,
    LogsSettings,
    parse_rfc3339_ns,
    parse_settings,
    quote,
    re2_escape,
    rfc3339_nano,
)
from nightshift.sources.logs_toolset import LogsToolset

QUERY_PATH = "/select/logsql/query"
BACKEND_KEYS = frozenset({"stream_filter", "account_id", "project_id"})


def build_logsql(query: LogQuery, stream_filter: bool = True) -> str:
    parts: list[str] = []
    if stream_filter:
        matchers = [f"{k}={quote(v)}" for k, v in query.streams.items()]
        if query.one_of is not None:
            label, values = query.one_of
            matchers.append(f"{label}=~{quote('|'.join(re2_escape(v) for v in values))}")
        if matchers:
            parts.append("_stream:{" + ",".join(matchers) + "}")
    else:
        parts += [f"{quote(k)}:={quote(v)}" for k, v in query.streams.items()]
        if query.one_of is not None:
            label, values = query.one_of
            parts.append(f"{quote(label)}:in({','.join(quote(v) for v in values)})")
    parts += [f"*{quote(text)}*" for text in query.contains]
    if query.regex is not None:
        parts.append(f"~{quote(query.regex)}")
    return " ".join(parts) or "*"


class VictoriaLogsBackend:
    def __init__(
        self, store: StoreConnection, settings: LogsSettings, *, stream_filter: bool = True
    ) -> None:
        self._store = store
        self._settings = settings
        self._stream_filter = stream_filter

    def _form(self, logsql: str, query: LogQuery) -> dict[str, str]:
        return {
            "query": logsql,
            "start": rfc3339_nano(query.start_ns),
            "end": rfc3339_nano(query.end_ns),
            "timeout": f"{self._store.timeout_seconds:g}s",
        }

    async def search(self, query: LogQuery, count: bool) -> LogPage:
        logsql = build_logsql(query, self._stream_filter)
        async with self._store.client() as client:
            if count:
                lines, matched = await asyncio.gather(
                    self._lines(client, logsql, query), self._count(client, logsql, query)
                )
            else:
                lines, matched = await self._lines(client, logsql, query), None
        return LogPage(lines, matched, logsql)

    async def _lines(
        self, client: httpx.AsyncClient, logsql: str, query: LogQuery
    ) -> list[LogLine]:
        form = {**self._form(logsql, query), "limit": str(query.limit)}
        out: list[LogLine] = []
        async with client.stream("POST", QUERY_PATH, data=form) as response:
            await raise_for_store(response)
            async for raw in bounded_lines(response, query.limit):
                if raw is None:  # an entry too big to hold: said so, not read
                    out.append(LogLine(query.end_ns, {}, "[log entry over 256 KiB not shown]"))
                    continue
                out.append(self._entry(raw))
        out.sort(key=lambda x: x.ts_ns, reverse=True)
        return out

    def _entry(self, raw: bytes) -> LogLine:
        record = json.loads(raw)
        if not isinstance(record, dict):
            raise ValueError("VictoriaLogs answered a line that is not a JSON object")
        s = self._settings
        labels = {
            k: str(record[k])
            for k in (s.namespace_label, s.app_label, s.pod_label)
            if record.get(k) not in (None, "")
        }
        if not labels and record.get("_stream") not in (None, "", "{}"):
            labels = {"_stream": str(record["_stream"])}
        message = record.get("_msg")
        if not isinstance(message, str) or message.startswith(_NO_MSG):
            message = _from_fields(record, labels)
        return LogLine(parse_rfc3339_ns(str(record["_time"])), labels, message)

    async def _count(self, client: httpx.AsyncClient, logsql: str, query: LogQuery) -> int:
        form = self._form(f"{logsql} | stats count() as matched", query)
        async with client.stream("POST", QUERY_PATH, data=form) as response:
            await raise_for_store(response)
            body = await read_capped(response, 64 * 1024)
        rows = [json.loads(x) for x in body.splitlines() if x.strip()]
        return int(rows[0]["matched"]) if rows else 0


_NO_MSG = "missing _msg field"  # VictoriaLogs' stand-in when a line had none


def _from_fields(record: Mapping[str, Any], labels: Mapping[str, str]) -> str:
    """The line again, as JSON, when the store parsed a JSON line into fields (its
    Loki push API does so by default): dotted names nest back into objects."""
    out: dict[str, Any] = {}
    for key, value in record.items():
        if key.startswith("_") or key in labels:
            continue
        node = out
        *parents, leaf = key.split(".")
        for part in parents:
            child = node.setdefault(part, {})
            node = child if isinstance(child, dict) else node
        node[leaf] = value
    return json.dumps(out, separators=(",", ":"))


def build(source: SourceConfig, context: SourceContext) -> Toolset:
    settings = parse_settings(source, BACKEND_KEYS)
    stream_filter = source.setting("stream_filter", True)
    if not isinstance(stream_filter, bool):
        raise SourcesError(f"source {source.name!r}: settings.stream_filter must be a boolean")
    headers: dict[str, str] = {}
    for key, header in (("account_id", "AccountID"), ("project_id", "ProjectID")):
        value = source.setting(key)
        if value is not None:
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise SourcesError(
                    f"source {source.name!r}: settings.{key} must be an integer >= 0"
                )
            headers[header] = str(value)
    store = StoreConnection.of("victorialogs", source, context, **headers)
    backend = VictoriaLogsBackend(store, settings, stream_filter=stream_filter)
    return LogsToolset(backend, settings, context, source.name)
