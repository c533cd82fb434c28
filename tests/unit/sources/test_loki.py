"""The Loki backend against the wire format of Loki's HTTP API reference (a local
fake that validates requests as Loki does; Loki itself is not available here)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest

from nightshift.agent.tools.protocol import ToolCall, ToolResult, Toolset, ToolStatus
from nightshift.domain.vocabulary import Domain
from nightshift.sources.config import SourceConfig, SourceKind, SourcesError
from nightshift.sources.context import SourceContext
from nightshift.sources.logs_query import LogQuery, rfc3339
from nightshift.sources.loki import build_logql
from nightshift.sources.registry import build_toolset
from tests.support import fake_loki

S = 1_000_000_000
T0 = 1_800_000_000 * S
CHECKOUT = {"namespace": "shop", "app": "checkout", "pod": "checkout-1"}
CART = {"namespace": "shop", "app": "cart", "pod": "cart-1"}


@pytest.fixture
def loki() -> Iterator[fake_loki.FakeLoki]:
    fake = fake_loki.FakeLoki(
        streams=[
            (CHECKOUT, [(T0 - 30 * S, "refused a"), (T0 - 10 * S, "refused c")]),
            (CART, [(T0 - 20 * S, "refused b")]),
        ],
        count=3,
    )
    with fake_loki.running(fake) as server:
        yield server


def _toolset(
    url: str,
    credential: dict[str, str] | None = None,
    namespaces: frozenset[str] = frozenset({"*"}),
    **settings: Any,
) -> Toolset:
    source = SourceConfig(
        name="loki", kind=SourceKind.LOKI, domain=Domain.APPLICATION, url=url, settings=settings
    )
    creds = {(Domain.APPLICATION, "default"): credential} if credential else {}
    return build_toolset([source], SourceContext("inv-1", namespaces, credentials=creds))


def _range(loki: fake_loki.FakeLoki) -> dict[str, str]:
    """The query_range request's parameters (the count request runs beside it)."""
    return next(r.params for r in loki.requests if r.path.endswith("/query_range"))


async def _search(toolset: Toolset, **params: Any) -> ToolResult:
    return await toolset.call(ToolCall("logs_search", params))


async def test_query_range_request_is_loki_shaped(loki: fake_loki.FakeLoki) -> None:
    result = await _search(
        _toolset(loki.url, tenant="team-a"), pattern="refused", namespace="shop", limit=2
    )

    assert result.status is ToolStatus.OK, result.text
    lines = next(r for r in loki.requests if r.path == "/loki/api/v1/query_range")
    assert lines.params["query"] == '{namespace="shop"} |= "refused"'
    assert lines.params["limit"] == "2"
    assert lines.params["direction"] == "backward"
    start, end = int(lines.params["start"]), int(lines.params["end"])
    assert end - start == 60 * 60 * S  # the default one-hour window, in nanoseconds
    assert lines.headers["x-scope-orgid"] == "team-a"
    count = next(r for r in loki.requests if r.path == "/loki/api/v1/query")
    assert count.params["query"] == 'sum(count_over_time({namespace="shop"} |= "refused" [3600s]))'
    assert count.params["time"] == lines.params["end"]


async def test_streams_are_merged_newest_first_with_labels(loki: fake_loki.FakeLoki) -> None:
    result = await _search(_toolset(loki.url), pattern="refused", limit=2)

    assert result.text.splitlines() == [
        "3 lines matched in the last 60 min, showing the newest 2",
        f'{rfc3339(T0 - 10 * S)} {{namespace="shop", app="checkout", pod="checkout-1"}} refused c',
        f'{rfc3339(T0 - 20 * S)} {{namespace="shop", app="cart", pod="cart-1"}} refused b',
        "... 1 more matching lines not shown (narrow the pattern, namespace, app or since_minutes)",
    ]
    assert result.data == {"matched": 3, "shown": 2, "query": '{namespace=~".+"} |= "refused"'}


async def test_bearer_token_from_the_broker(loki: fake_loki.FakeLoki) -> None:
    await _search(_toolset(loki.url, {"token": "s3cret-token"}), pattern="x")

    assert {r.headers["authorization"] for r in loki.requests} == {"Bearer s3cret-token"}


async def test_basic_auth_from_the_broker(loki: fake_loki.FakeLoki) -> None:
    await _search(_toolset(loki.url, {"username": "1234", "password": "glc_token"}), pattern="x")

    expected = "Basic " + base64.b64encode(b"1234:glc_token").decode()
    assert {r.headers["authorization"] for r in loki.requests} == {expected}


async def test_regex_pattern_uses_the_regex_line_filter(loki: fake_loki.FakeLoki) -> None:
    await _search(_toolset(loki.url), pattern='(?i)refused|"quoted"', regex=True, app="checkout")

    sent = _range(loki)["query"]
    assert sent == '{app="checkout"} |~ "(?i)refused|\\"quoted\\""'


async def test_a_limited_agent_searches_only_its_namespaces(loki: fake_loki.FakeLoki) -> None:
    await _search(_toolset(loki.url, namespaces=frozenset({"shop", "bank.x"})), pattern="p")

    assert _range(loki)["query"] == '{namespace=~"bank\\\\.x|shop"} |= "p"'


async def test_no_match_is_no_data_with_the_reason(loki: fake_loki.FakeLoki) -> None:
    loki.streams, loki.count = [], 0

    result = await _search(_toolset(loki.url), pattern="nothing", since_minutes=15)

    assert result.status is ToolStatus.NO_DATA
    assert result.text == "no log lines matched 'nothing' in the last 15 min"


async def test_a_5xx_is_source_unavailable_evidence(loki: fake_loki.FakeLoki) -> None:
    loki.status = 503

    result = await _search(_toolset(loki.url, {"token": "s3cret-token"}), pattern="x")

    assert result.status is ToolStatus.ERROR
    assert result.text.startswith("source unavailable: loki source 'loki': HTTPStatusError")
    assert "s3cret-token" not in result.text


async def test_garbage_is_source_unavailable_evidence(loki: fake_loki.FakeLoki) -> None:
    loki.raw = b"<html>proxy error</html>"

    result = await _search(_toolset(loki.url), pattern="x")

    assert result.status is ToolStatus.ERROR
    assert result.text.startswith("source unavailable: loki source 'loki':")


async def test_a_400_is_a_rejected_query_the_agent_can_fix(loki: fake_loki.FakeLoki) -> None:
    loki.status, loki.error = 400, b"parse error at line 1, col 21: invalid char escape"

    result = await _search(_toolset(loki.url), pattern="\\q", regex=True)

    assert result.status is ToolStatus.ERROR
    assert result.text == (
        "the log store rejected the query: HTTP 400: "
        "parse error at line 1, col 21: invalid char escape"
    )


async def test_an_empty_pattern_selects_every_line_of_the_streams(loki: fake_loki.FakeLoki) -> None:
    await _search(_toolset(loki.url), pattern="")

    assert _range(loki)["query"] == '{namespace=~".+"}'


def test_logql_quotes_cannot_escape_the_literal() -> None:
    query = LogQuery(streams={"namespace": 'sh"op'}, contains=('a"} |= "b\\', "line\nbreak"))

    assert build_logql(query) == ('{namespace="sh\\"op"} |= "a\\"} |= \\"b\\\\" |= "line\\nbreak"')


async def test_security_events_query_the_configured_streams(loki: fake_loki.FakeLoki) -> None:
    loki.streams = [
        (
            {"job": "audit"},
            [
                (
                    T0,
                    '{"kind":"Event","apiVersion":"audit.k8s.io/v1","verb":"get",'
                    '"requestURI":"/api/v1/secrets","user":{"username":"eve"},'
                    '"responseStatus":{"code":403,"reason":"Forbidden"}}',
                )
            ],
        )
    ]
    toolset = _toolset(
        loki.url,
        security_query={"streams": {"job": "audit"}, "pattern": '"code":40[13]', "regex": True},
    )

    result = await toolset.call(ToolCall("security_events", {"target": "secrets"}))

    assert _range(loki)["query"] == '{job="audit"} |= "secrets" |~ "\\"code\\":40[13]"'
    assert "authorization-denied" in result.text and "eve" in result.text


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"tenant": ""}, "settings.tenant"),
        ({"namespace_label": "bad label"}, "settings.namespace_label"),
        ({"limit": 5}, "unknown settings ['limit']"),
        ({"security_query": {"streams": {}}}, "security_query.streams"),
        ({"max_limit": 0}, "settings.max_limit"),
    ],
)
def test_bad_settings_name_the_key(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(SourcesError, match=message.replace("[", r"\[").replace("]", r"\]")):
        _toolset("http://127.0.0.1:1", **settings)


def test_specs_offer_security_events_only_with_a_security_query() -> None:
    plain = _toolset("http://127.0.0.1:1")
    secure = _toolset("http://127.0.0.1:1", security_query={"streams": {"job": "audit"}})

    assert [s.name for s in plain.specs()] == ["logs_search"]
    assert [s.name for s in secure.specs()] == ["logs_search", "security_events"]
