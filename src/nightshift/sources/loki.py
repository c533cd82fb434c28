"""Grafana Loki as the log store (LogQL over the HTTP API).

Lines: ``GET /loki/api/v1/query_range`` with ``query={namespace="x", app="y"} |= "pattern"``
(``|~ "regex"`` with ``regex: true``), ``limit``, ``direction=backward`` and
``start``/``end`` as nanosecond epochs (start inclusive, end exclusive). The
answer is Loki's ``streams`` result: ``[{"stream": {labels}, "values": [["<ns>",
"<line>"], ...]}]``, newest first per stream; streams are merged newest first.
Count: ``GET /loki/api/v1/query`` with ``sum(count_over_time(<same query>[<window>s]))``
at ``time=end``, a ``vector`` result.

Strings are Go-quoted (LogQL reads them with strconv.Unquote), so a pattern's
quotes or backslashes stay inside the literal. Tenant: ``settings.tenant`` becomes
``X-Scope-OrgID``. Credentials from the broker: ``token`` (bearer) or ``username``
+ ``password`` (basic, e.g. Grafana Cloud's user and access-policy token).

Tested against the wire format of Loki's HTTP API reference only (request
parameters and JSON shapes), with a local fake: no registry ships Loki and its
AGPL module is not built here. VictoriaLogs is the log store tested for real.
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
from nightshift.sources.logs_http import StoreConnection, raise_for_store, read_capped
from nightshift.sources.logs_query import (
    LogLine,
    LogPage,
    LogQuery,
    LogsSettings,
    parse_settings,
    quote,
    re2_escape,
)
from nightshift.sources.logs_toolset import LogsToolset

RANGE_PATH = "/loki/api/v1/query_range"
INSTANT_PATH = "/loki/api/v1/query"
BACKEND_KEYS = frozenset({"tenant"})


def build_logql(query: LogQuery, any_label: str = "namespace") -> str:
    matchers = [f"{k}={quote(v)}" for k, v in query.streams.items()]
    if query.one_of is not None:
        label, values = query.one_of
        matchers.append(f"{label}=~{quote('|'.join(re2_escape(v) for v in values))}")
    if not matchers:  # LogQL needs one matcher that cannot match the empty value
        matchers.append(f'{any_label}=~".+"')
    expr = "{" + ", ".join(matchers) + "}"
    for text in query.contains:
        expr += f" |= {quote(text)}"
    if query.regex is not None:
        expr += f" |~ {quote(query.regex)}"
    return expr


def _json(body: bytes, what: str) -> Mapping[str, Any]:
    doc = json.loads(body)
    if not isinstance(doc, dict) or doc.get("status") != "success":
        raise ValueError(f"Loki answered {what} without status success")
    data = doc.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("result"), list):
        raise ValueError(f"Loki answered {what} without data.result")
    return data


def parse_streams(body: bytes, limit: int) -> list[LogLine]:
    data = _json(body, "query_range")
    if data.get("resultType") != "streams":
        raise ValueError(f"Loki answered resultType {data.get('resultType')!r}, not streams")
    out: list[LogLine] = []
    for stream in data["result"]:
        labels = {str(k): str(v) for k, v in (stream.get("stream") or {}).items()}
        for value in stream.get("values") or []:
            # a third element (structured metadata) may follow; it is not shown
            out.append(LogLine(int(value[0]), labels, str(value[1])))
    out.sort(key=lambda x: x.ts_ns, reverse=True)
    return out[:limit]


def parse_count(body: bytes) -> int:
    data = _json(body, "the count query")
    result = data["result"]
    return int(float(result[0]["value"][1])) if result else 0


class LokiBackend:
    def __init__(self, store: StoreConnection, settings: LogsSettings) -> None:
        self._store = store
        self._settings = settings

    async def search(self, query: LogQuery, count: bool) -> LogPage:
        logql = build_logql(query, self._settings.namespace_label)
        async with self._store.client() as client:
            lines_call = self._get(
                client,
                RANGE_PATH,
                {
                    "query": logql,
                    "limit": str(query.limit),
                    "direction": "backward",
                    "start": str(query.start_ns),
                    "end": str(query.end_ns),
                },
            )
            if count:
                seconds = max(1, (query.end_ns - query.start_ns) // 1_000_000_000)
                metric = f"sum(count_over_time({logql} [{seconds}s]))"
                count_call = self._get(
                    client, INSTANT_PATH, {"query": metric, "time": str(query.end_ns)}
                )
                body, counted = await asyncio.gather(lines_call, count_call)
                matched: int | None = parse_count(counted)
            else:
                body, matched = await lines_call, None
        return LogPage(parse_streams(body, query.limit), matched, logql)

    async def _get(self, client: httpx.AsyncClient, path: str, params: dict[str, str]) -> bytes:
        async with client.stream("GET", path, params=params) as response:
            await raise_for_store(response)
            return await read_capped(response)


def build(source: SourceConfig, context: SourceContext) -> Toolset:
    settings = parse_settings(source, BACKEND_KEYS)
    headers: dict[str, str] = {}
    tenant = source.setting("tenant")
    if tenant is not None:
        if not isinstance(tenant, str) or not tenant or "\n" in tenant:
            raise SourcesError(f"source {source.name!r}: settings.tenant must be a tenant id")
        headers["X-Scope-OrgID"] = tenant
    backend = LokiBackend(StoreConnection.of("loki", source, context, **headers), settings)
    return LogsToolset(backend, settings, context, source.name)
