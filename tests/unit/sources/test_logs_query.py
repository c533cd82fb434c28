"""The shared part of the logs port: quoting, time, bounded reading, rendering."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from itertools import count

import httpx
import pytest

from nightshift.domain.vocabulary import Domain
from nightshift.sources.config import SourceConfig, SourceKind, SourcesError
from nightshift.sources.context import SourceContext
from nightshift.sources.logs_http import StoreConnection, bounded_lines
from nightshift.sources.logs_query import (
    LogLine,
    LogPage,
    LogQuery,
    LogsSettings,
    parse_rfc3339_ns,
    quote,
    re2_escape,
    render_page,
    rfc3339_nano,
)
from nightshift.sources.logs_security import render_security
from nightshift.sources.registry import build_toolset
from nightshift.sources.victorialogs import VictoriaLogsBackend, build_logsql

S = 1_000_000_000


@pytest.mark.parametrize(
    "text", ['say "hi"', "back\\slash", "new\nline\ttab\rcr", "\x00\x1f\x7f", "ünï 😀", ""]
)
def test_quote_reads_back_as_the_same_text(text: str) -> None:
    # Go's strconv.Unquote and JSON agree on every escape quote() writes
    assert json.loads(quote(text)) == text


def test_re2_escape_leaves_names_and_escapes_metacharacters() -> None:
    assert re2_escape("shop-1") == "shop-1"
    assert re2_escape("a.b|c(d)*") == "a\\.b\\|c\\(d\\)\\*"


def test_rfc3339_keeps_nanoseconds() -> None:
    ts = 1_764_662_400 * S + 123_456_789
    assert rfc3339_nano(ts) == "2025-12-02T08:00:00.123456789Z"
    assert parse_rfc3339_ns("2025-12-02T08:00:00.123456789Z") == ts
    assert parse_rfc3339_ns("2025-12-02T09:00:00.5+01:00") == 1_764_662_400 * S + 500_000_000
    with pytest.raises(ValueError, match="not an RFC 3339 time"):
        parse_rfc3339_ns("yesterday")


def test_logsql_keeps_pattern_syntax_inside_one_literal() -> None:
    query = LogQuery(streams={"namespace": "shop"}, contains=('x"* | stats count() "',))

    assert build_logsql(query) == '_stream:{namespace="shop"} *"x\\"* | stats count() \\""*'
    assert build_logsql(LogQuery()) == "*"


def _streaming(body: AsyncIterator[bytes]) -> httpx.AsyncClient:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=_Stream(body))

    return httpx.AsyncClient(transport=httpx.MockTransport(handler), base_url="http://store")


class _Stream(httpx.AsyncByteStream):
    def __init__(self, body: AsyncIterator[bytes]) -> None:
        self._body = body

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._body:
            yield chunk


async def test_a_line_over_the_cap_is_skipped_unread() -> None:
    async def body() -> AsyncIterator[bytes]:
        yield b"first\n" + b"x" * 10_000
        for _ in range(100):  # one 1 MB line, in chunks, never held whole
            yield b"y" * 10_000
        yield b"\nlast\n"

    async with _streaming(body()) as client, client.stream("GET", "/") as response:
        got = [line async for line in bounded_lines(response, 10, max_line_bytes=64_000)]

    assert got == [b"first", None, b"last"]


async def test_victorialogs_stops_reading_at_the_limit_however_much_is_sent() -> None:
    sent = count()

    async def endless() -> AsyncIterator[bytes]:
        for i in sent:  # a store that ignores limit and never ends
            record = {"_time": rfc3339_nano(i * S), "_msg": f"line {i}", "namespace": "shop"}
            yield (json.dumps(record) + "\n").encode()

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=_Stream(endless()))

    backend = VictoriaLogsBackend(
        StoreConnection("http://store", transport=httpx.MockTransport(handler)), LogsSettings()
    )
    page = await backend.search(LogQuery(contains=("line",), limit=7, end_ns=S), count=False)

    assert [x.line for x in page.lines] == [f"line {i}" for i in range(6, -1, -1)]
    assert next(sent) < 20  # it stopped asking for more right after the limit


def test_render_cuts_long_lines_and_flattens_multiline_entries() -> None:
    page = LogPage([LogLine(5 * S, {"pod": "p", "namespace": "n"}, "a\nb" + "z" * 2000)], 1, "q")

    text = render_page(page, LogsSettings(), 60)

    first, row = text.splitlines()
    assert first == "1 line matched in the last 60 min, showing the newest 1"
    assert row.startswith('1970-01-01T00:00:05.000Z {namespace="n", pod="p"} a\\nbzzz')
    assert row.endswith(" …[+1004 chars]")  # 2004 flattened chars, 1000 shown


def test_security_lines_are_classified_and_grouped() -> None:
    lines = [
        LogLine(3 * S, {"app": "edge"}, "tls: bad certificate from 10.1.1.1"),
        LogLine(2 * S, {"app": "edge"}, "401 Unauthorized for token abc"),
        LogLine(1 * S, {"app": "edge"}, "401 Unauthorized for token abc"),
    ]

    text, events = render_security(LogPage(lines, 3, "q"), "logs", 60)

    assert [(e["type"], e["count"]) for e in events] == [
        ("certificate", 1),
        ("authentication-failure", 2),
    ]
    assert text.splitlines()[0] == (
        "3 security log lines matched in the last 60 min; the newest 3 grouped into 2 events"
    )


@pytest.mark.parametrize(
    ("url", "settings", "message"),
    [
        ("", {}, "needs an http\\(s\\) url"),
        ("http://vl:9428", {"stream_filter": "yes"}, "settings.stream_filter must be a boolean"),
        ("http://vl:9428", {"account_id": -1}, "settings.account_id must be an integer >= 0"),
        ("http://vl:9428", {"default_limit": 900, "max_limit": 100}, "settings.default_limit"),
        ("http://vl:9428", {"tenant": "a"}, "unknown settings \\['tenant'\\]"),
        ("http://vl:9428", {"verify_tls": "no"}, "settings.verify_tls must be a boolean"),
        ("https://vl:9428", {"ca_file": "/nonexistent/ca.pem"}, "settings.ca_file: No such file"),
        ("http://vl:9428", {"security_query": {"streams": {"job": "a"}, "regex": "yes"}}, "regex"),
    ],
)
def test_victorialogs_settings_are_checked(
    url: str, settings: dict[str, object], message: str
) -> None:
    source = SourceConfig(
        name="vl",
        kind=SourceKind.VICTORIALOGS,
        domain=Domain.APPLICATION,
        url=url,
        settings=settings,
    )

    with pytest.raises(SourcesError, match=message):
        build_toolset([source], SourceContext("inv", frozenset({"*"})))
