"""The prometheus source against a wire-format fake (httpx.MockTransport):
bounds, rendering and the edge cases a real server rarely shows on demand."""

from __future__ import annotations

import base64
import math
import re
import tracemalloc
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from nightshift.agent.tools.protocol import ToolCall, ToolResult, ToolStatus
from nightshift.sources.config import SourceConfig, SourcesError
from nightshift.sources.context import SourceContext
from nightshift.sources.guard import GuardedSource
from nightshift.sources.http_client import HttpEndpoint, parse_settings
from nightshift.sources.prometheus import PrometheusSettings, PrometheusToolset, build

NOW = 1_800_000_000.0
Curve = Callable[[float], float]


class FakePrometheus:
    """Answers query_range and query from curves keyed by label sets."""

    def __init__(self, series: Mapping[tuple[tuple[str, str], ...], Curve] | None = None) -> None:
        self.series = dict(series or {})
        self.requests: list[httpx.Request] = []
        self.answer: httpx.Response | None = None  # a canned answer overrides the curves
        self.last_point: float | None = None  # no points after this time (a vanished target)

    def params(self, request: httpx.Request) -> dict[str, str]:
        if request.method == "POST":
            raw = parse_qs(request.content.decode())
            return {k: v[0] for k, v in raw.items()}
        return dict(request.url.params)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.answer is not None:
            return self.answer
        p = self.params(request)
        if request.url.path == "/api/v1/query_range":
            start, end, step = float(p["start"]), float(p["end"]), float(p["step"])
            times = [start + i * step for i in range(int((end - start) // step) + 1)]
            times = [t for t in times if self.last_point is None or t <= self.last_point]
            result = [
                {"metric": dict(labels), "values": [[t, str(curve(t))] for t in times]}
                for labels, curve in self.series.items()
            ]
            data = {"resultType": "matrix", "result": result}
        else:
            result = [
                {"metric": dict(labels), "value": [NOW, str(curve(NOW))]}
                for labels, curve in self.series.items()
            ]
            data = {"resultType": "vector", "result": result}
        return httpx.Response(200, json={"status": "success", "data": data})


def _labels(**kw: str) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(kw.items()))


def config(settings: dict[str, Any] | None = None) -> SourceConfig:
    return SourceConfig(
        name="prom",
        kind="prometheus",
        domain="application",
        url="http://prometheus.test:9090",
        settings=settings or {},
    )


def toolset(
    fake: FakePrometheus,
    settings: dict[str, Any] | None = None,
    credential: Mapping[str, str] | None = None,
    namespaces: frozenset[str] = frozenset({"*"}),
) -> PrometheusToolset:
    source = config(settings)
    parsed = parse_settings(PrometheusSettings, source)
    endpoint = HttpEndpoint(source, parsed, credential or {}, httpx.MockTransport(fake))
    return PrometheusToolset(source, parsed, endpoint, namespaces, clock=lambda: NOW)


async def query(ts: PrometheusToolset, q: str, minutes: int = 60) -> ToolResult:
    return await ts.call(ToolCall("prometheus_query", {"query": q, "range_minutes": minutes}))


async def test_a_series_row_shows_its_labels_samples_min_max_and_trend() -> None:
    ramp = _labels(__name__="checkout_latency_seconds", namespace="shop")
    fake = FakePrometheus({ramp: lambda t: 0.2 if t < NOW - 1500 else 2.5})
    result = await query(toolset(fake), "checkout_latency_seconds")
    assert result.status is ToolStatus.OK
    lines = result.text.splitlines()
    assert lines[0] == "query: checkout_latency_seconds"
    assert lines[1] == "range: 60m, step 31s, 1 series"
    assert lines[2].split() == [
        "SERIES", "-1h", "-50m", "-40m", "-30m", "-20m", "-10m", "now", "MIN", "MAX", "TREND",
    ]  # fmt: skip
    row = lines[3].split()
    assert row[0] == 'checkout_latency_seconds{namespace="shop"}'
    assert row[1:8] == ["0.2", "0.2", "0.2", "0.2", "2.5", "2.5", "2.5"]
    assert row[8:10] == ["0.2", "2.5"]
    assert " ".join(row[10:]) == "rising +1150%"


@pytest.mark.parametrize(
    ("curve", "trend"),
    [
        (lambda t: 5.0, "flat"),
        (lambda t: 100.0 if abs(t - (NOW - 1800)) < 300 else 1.0, "spike"),
        (lambda t: 10.0 if t < NOW - 1800 else 2.0, "falling -80%"),
        (lambda t: 0.0 if t < NOW - 1800 else 3.0, "rising from 0"),
    ],
)
async def test_the_trend_says_in_one_word_what_the_series_did(curve: Curve, trend: str) -> None:
    fake = FakePrometheus({_labels(__name__="m"): curve})
    result = await query(toolset(fake), "m")
    assert result.text.splitlines()[3].endswith(trend)


async def test_a_series_that_stopped_reporting_says_since_when() -> None:
    fake = FakePrometheus({_labels(__name__="up", job="db"): lambda t: 1.0})
    fake.last_point = NOW - 600
    result = await query(toolset(fake), "up")
    assert "no data for the last 10m" in result.text
    assert result.text.splitlines()[3].split()[7] == "-"  # the "now" column


@pytest.mark.parametrize("minutes", [1, 5, 60, 360, 1440])
async def test_the_step_keeps_every_series_within_the_point_budget(minutes: int) -> None:
    fake = FakePrometheus({_labels(__name__="m"): lambda t: 1.0})
    await query(toolset(fake, {"max_points_per_series": 120}), "m", minutes)
    p = fake.params(fake.requests[0])
    points = (float(p["end"]) - float(p["start"])) // float(p["step"]) + 1
    assert points <= 120
    span = float(p["end"]) - float(p["start"])
    assert minutes * 60 <= span < minutes * 60 + float(p["step"])
    assert span % float(p["step"]) == 0  # the last evaluation point is now
    assert p["timeout"].endswith("ms")


async def test_past_max_series_the_highest_peaks_are_shown_and_the_rest_counted() -> None:
    many = {_labels(__name__="m", i=str(i)): (lambda t, i=i: float(i)) for i in range(30)}
    result = await query(toolset(FakePrometheus(many), {"max_series": 5}), "m")
    rows = result.text.splitlines()[3:8]
    assert sorted(r.split()[0] for r in rows) == [f'm{{i="{i}"}}' for i in range(25, 30)]
    assert "30 series (showing the 5 with the highest peaks)" in result.text
    assert result.text.splitlines()[-1] == (
        "[truncated by nightshift: 25 more series not shown; "
        "narrow the query with label matchers or aggregate it]"
    )
    assert result.data is not None and result.data["total_series"] == 30


async def test_a_query_past_the_point_limit_stops_reading_and_says_so() -> None:
    many = {_labels(__name__="m", i=str(i)): lambda t: 1.0 for i in range(100)}
    ts = toolset(FakePrometheus(many), {"max_total_points": 1000, "max_series": 3})
    result = await query(ts, "m")
    assert result.status is ToolStatus.OK
    per_series = math.ceil(3600 / 31) + 1
    stopped = f"reading stopped at {9 * per_series} points (limit 1000) after 9 series"
    assert stopped in result.text
    assert "so there are at least 9 series" in result.text
    assert result.data is not None and result.data["complete"] is False


async def test_an_answer_past_the_byte_cap_stops_reading() -> None:
    many = {_labels(__name__="m", pad="x" * 500, i=str(i)): lambda t: 1.0 for i in range(200)}
    ts = toolset(FakePrometheus(many), {"max_fetch_bytes": 65536, "max_total_points": 10**7})
    result = await query(ts, "m")
    assert re.search(r"reading stopped at 65536 bytes after [1-9]\d* series", result.text)
    assert result.data is not None and result.data["complete"] is False


async def test_bad_promql_is_an_error_quoting_prometheus() -> None:
    fake = FakePrometheus()
    message = 'invalid parameter "query": 1:14: parse error: unclosed left parenthesis'
    fake.answer = httpx.Response(
        400, json={"status": "error", "errorType": "bad_data", "error": message}
    )
    result = await query(toolset(fake), "rate(x[5m]")
    assert result.status is ToolStatus.ERROR
    assert result.text == f"query: rate(x[5m]\nERROR: bad_data: {message}"


async def test_an_empty_result_is_no_data_with_the_reason() -> None:
    result = await query(toolset(FakePrometheus()), "absent_metric")
    assert result.status is ToolStatus.NO_DATA
    assert result.text == "query: absent_metric\nempty result: no series matched"


async def test_a_proxy_error_page_makes_the_source_unavailable() -> None:
    fake = FakePrometheus()
    fake.answer = httpx.Response(502, text="<html>Bad Gateway</html>")
    guarded = GuardedSource(toolset(fake), config())
    result = await guarded.call(ToolCall("prometheus_query", {"query": "up"}))
    assert result.status is ToolStatus.ERROR
    assert result.text.startswith("source unavailable: prometheus source 'prom': SourceHttpError")
    assert "HTTP 502" in result.text


async def test_a_token_from_the_broker_is_sent_as_a_bearer_token() -> None:
    fake = FakePrometheus()
    await query(toolset(fake, credential={"token": "s3cret"}), "up")
    assert fake.requests[0].headers["authorization"] == "Bearer s3cret"


async def test_username_and_password_are_sent_as_basic_auth_with_extra_headers() -> None:
    fake = FakePrometheus()
    ts = toolset(fake, {"headers": {"X-Scope-OrgID": "team-a"}}, {"username": "u", "password": "p"})
    await query(ts, "up")
    sent = fake.requests[0].headers
    assert sent["authorization"] == "Basic " + base64.b64encode(b"u:p").decode()
    assert sent["x-scope-orgid"] == "team-a"


def test_settings_may_not_carry_an_authorization_header() -> None:
    source = SourceConfig(
        name="prom", kind="prometheus", domain="application", url="http://p:9090",
        settings={"headers": {"Authorization": "Bearer leaked"}},
    )  # fmt: skip
    with pytest.raises(SourcesError, match="may not set Authorization"):
        build(source, SourceContext("inv", frozenset({"*"})))


def test_unknown_settings_are_refused_by_name() -> None:
    source = SourceConfig(
        name="prom", kind="prometheus", domain="application", url="http://p:9090",
        settings={"max_serie": 10},
    )  # fmt: skip
    with pytest.raises(SourcesError, match=r"settings\.max_serie"):
        build(source, SourceContext("inv", frozenset({"*"})))


async def test_a_long_query_goes_in_a_post_body() -> None:
    fake = FakePrometheus()
    long_query = "sum(" + " + ".join(f'm{{i="{i}"}}' for i in range(400)) + ")"
    await query(toolset(fake), long_query)
    assert fake.requests[0].method == "POST"
    assert fake.params(fake.requests[0])["query"] == long_query


async def test_nan_and_inf_values_print_as_prometheus_would_read_them() -> None:
    fake = FakePrometheus({_labels(__name__="ratio"): lambda t: math.nan if t < NOW - 600 else 1e9})
    result = await query(toolset(fake), "ratio")
    row = result.text.splitlines()[3].split()
    assert row[1] == "-" and row[7] == "1000000000"


@pytest.mark.parametrize(
    ("url", "settings", "problem"),
    [
        ("", {}, "needs an http:// or https:// url"),
        ("postgresql://db:5432", {}, "needs an http:// or https:// url"),
        ("https://p:9090", {"ca_file": "/nonexistent/ca.pem"}, "is not a file"),
        ("http://p:9090", {"cadvisor_window": "5 minutes"}, "settings.cadvisor_window"),
        ("http://p:9090", {"max_series": 0}, "settings.max_series"),
    ],
)
def test_a_misconfigured_source_fails_at_start_up_saying_what_is_wrong(
    url: str, settings: dict[str, Any], problem: str
) -> None:
    source = SourceConfig(
        name="prom", kind="prometheus", domain="application", url=url, settings=settings
    )
    with pytest.raises(SourcesError, match=re.escape(problem)):
        build(source, SourceContext("inv", frozenset({"*"})))


async def test_an_endless_answer_is_read_in_bounded_memory() -> None:
    """A server that never stops sending series: reading stops at the byte cap, and
    memory holds the kept series, never the answer."""

    async def endless() -> AsyncIterator[bytes]:
        yield b'{"status":"success","data":{"resultType":"matrix","result":['
        values = ",".join(f'[{NOW - i},"{i}"]' for i in range(120)).encode()
        i = 0
        while True:
            yield b'{"metric":{"__name__":"m","i":"%d"},"values":[%s]},' % (i, values)
            i += 1

    fake = FakePrometheus()
    fake.answer = httpx.Response(200, content=endless())
    ts = toolset(fake, {"max_fetch_bytes": 2 << 20, "max_total_points": 10_000_000})
    tracemalloc.start()
    try:
        result = await query(ts, "m")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "reading stopped at 2097152 bytes" in result.text
    assert peak < 1 << 20  # below the 2 MiB read: nothing accumulates
