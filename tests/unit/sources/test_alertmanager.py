"""list_alerts from Alertmanager's API v2 (a wire-format fake): filters as matchers,
and a summary that counts every alert of a storm within the answer cap."""

from __future__ import annotations

import json
import re
import tracemalloc
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from nightshift.agent.tools.protocol import ToolCall, ToolResult, ToolStatus
from nightshift.sources.alertmanager import AlertmanagerSettings, AlertmanagerToolset, parse_time
from nightshift.sources.config import SourceConfig
from nightshift.sources.guard import TRUNCATION_MARKER, GuardedSource
from nightshift.sources.http_client import HttpEndpoint, parse_settings

NOW = 1_800_000_000.0  # 2027-01-15T08:00:00Z


def _iso(epoch: float) -> str:
    return (
        datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


def am_alert(
    name: str, labels: Mapping[str, str], minutes_ago: float, description: str = ""
) -> dict[str, Any]:
    return {
        "labels": {"alertname": name, **labels},
        "annotations": {"description": description} if description else {},
        "startsAt": _iso(NOW - minutes_ago * 60),
        "endsAt": _iso(NOW + 3600),
        "updatedAt": _iso(NOW),
        "fingerprint": f"{abs(hash((name, tuple(labels.items())))):016x}",
        "receivers": [{"name": "default"}],
        "status": {"state": "active", "silencedBy": [], "inhibitedBy": []},
        "generatorURL": "http://prometheus/graph",
    }


class FakeAlertmanager:
    def __init__(self, alerts: list[dict[str, Any]]) -> None:
        self.alerts = alerts
        self.requests: list[httpx.Request] = []
        self.answer: httpx.Response | None = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.answer or httpx.Response(200, json=self.alerts)

    def filters(self) -> list[str]:
        return self.requests[-1].url.params.get_list("filter")


def config(max_chars: int = 16_000, settings: dict[str, Any] | None = None) -> SourceConfig:
    return SourceConfig(
        name="am",
        kind="alertmanager",
        domain="application",
        url="http://alertmanager.test:9093",
        max_answer_chars=max_chars,
        settings=settings or {},
    )


def toolset(
    fake: Callable[[httpx.Request], httpx.Response],
    *,
    namespaces: frozenset[str] = frozenset({"*"}),
    max_chars: int = 16_000,
    settings: dict[str, Any] | None = None,
) -> GuardedSource:
    source = config(max_chars, settings)
    parsed = parse_settings(AlertmanagerSettings, source)
    endpoint = HttpEndpoint(source, parsed, {}, httpx.MockTransport(fake))
    inner = AlertmanagerToolset(source, parsed, endpoint, namespaces, clock=lambda: NOW)
    return GuardedSource(inner, source)  # as the registry wraps it


async def list_alerts(ts: GuardedSource, **params: str) -> ToolResult:
    return await ts.call(ToolCall("list_alerts", params))


def _counted(text: str) -> int:
    """Alerts the answer accounts for: rows by alert name, or group rows when all fit."""
    lines = text.splitlines()
    if lines[1].startswith("By alert name"):
        table = lines[3 : next(i for i, x in enumerate(lines) if x.startswith(("Newest", "...")))]
        listed = sum(int(row.split()[2]) for row in table)
        tail = re.search(r"\.\.\. and \d+ more alert names \(\d+ groups, (\d+) alerts\)", text)
        return listed + (int(tail.group(1)) if tail else 0)
    return sum(int(row.split()[3]) for row in lines[2:])


async def test_a_few_alerts_are_one_row_per_group_newest_first() -> None:
    fake = FakeAlertmanager(
        [
            am_alert("CheckoutLatencyHigh", {"namespace": "shop", "service": "checkout",
                     "severity": "warning"}, 12, "p99 latency 2.4s over 15m"),
            am_alert("CheckoutLatencyHigh", {"namespace": "shop", "service": "checkout",
                     "severity": "warning", "route": "/pay"}, 8, "p99 latency 3.1s over 15m"),
            am_alert("PgBouncerClientsWaiting", {"namespace": "db", "service": "pgbouncer",
                     "severity": "critical", "domain": "database"}, 20, "42 clients waiting"),
        ]
    )  # fmt: skip
    result = await list_alerts(toolset(fake))
    assert result.status is ToolStatus.OK
    lines = result.text.splitlines()
    assert lines[0] == (
        "3 alerts firing (critical: 1, warning: 2, info: 0) in 2 groups by alertname, "
        "severity and target; newest first"
    )
    assert lines[1].split() == [
        "FIRST", "SEEN", "LAST", "SEEN", "AGE", "COUNT", "SEVERITY", "DOMAIN", "ALERTNAME",
        "TARGET", "SUMMARY",
    ]  # fmt: skip
    checkout, pgbouncer = lines[2].split(), lines[3].split()
    assert checkout[:8] == [
        "2027-01-15T07:48:00Z", "2027-01-15T07:52:00Z", "12m", "2", "warning", "application",
        "CheckoutLatencyHigh", "shop/checkout",
    ]  # fmt: skip
    assert " ".join(checkout[8:]) == "p99 latency 3.1s over 15m"  # the newest alert's words
    assert pgbouncer[3:8] == [
        "1",
        "critical",
        "database",
        "PgBouncerClientsWaiting",
        "db/pgbouncer",
    ]


async def test_severity_and_domain_become_label_matchers() -> None:
    fake = FakeAlertmanager([])
    ts = toolset(fake)
    await list_alerts(ts, severity="critical", domain="database")
    assert fake.filters() == ['severity="critical"', 'domain="database"']
    params = fake.requests[-1].url.params
    assert (params["active"], params["silenced"], params["inhibited"]) == ("true", "false", "false")
    # The source's own domain also matches alerts that carry no domain label.
    await list_alerts(ts, domain="application")
    assert fake.filters() == ['domain=~"application|"']


async def test_an_agent_bounded_to_namespaces_sees_theirs_and_cluster_wide_alerts() -> None:
    fake = FakeAlertmanager([])
    await list_alerts(toolset(fake, namespaces=frozenset({"shop", "db"})))
    assert fake.filters() == ['namespace=~"db|shop|"']


async def test_no_alert_is_no_data_naming_the_filters() -> None:
    result = await list_alerts(toolset(FakeAlertmanager([])), severity="critical")
    assert result.status is ToolStatus.NO_DATA
    assert result.text == 'no alerts firing matching severity="critical"'


@pytest.mark.parametrize("storm", [3_000, 30_000])
async def test_a_storm_is_counted_in_full_within_the_answer_cap(storm: int) -> None:
    alerts = [
        am_alert("KubePodNotReady", {"namespace": f"ns-{i % 40}", "pod": f"web-{i}",
                 "severity": "warning"}, 90 - i * 60 / storm, "Pod has been not ready for 15m")
        for i in range(storm)
    ] + [
        am_alert(f"TargetDown{j}", {"instance": f"10.0.0.{j}:9100", "severity": "info"}, 200 + j)
        for j in range(120)
    ] + [
        am_alert("PgBouncerClientsWaiting", {"namespace": "db", "service": "pgbouncer",
                 "severity": "critical"}, 45, "42 clients waiting for a server connection")
    ]  # fmt: skip
    result = await list_alerts(toolset(FakeAlertmanager(alerts)))
    total = storm + 121
    assert len(result.text) <= 16_000
    assert TRUNCATION_MARKER.split("{")[0] not in result.text  # the guard had nothing to cut
    assert result.text.startswith(
        f"{total} alerts firing (critical: 1, warning: {storm}, info: 120)"
    )
    assert _counted(result.text) == total
    assert "KubePodNotReady" in result.text and "PgBouncerClientsWaiting" in result.text
    newest = re.search(r"Newest groups.*\n.*\n(.*)", result.text)
    assert newest is not None and f"ns-{(storm - 1) % 40}/web-{storm - 1}" in newest.group(1)
    tail = re.search(r"\.\.\. and (\d+) older groups \((\d+) alerts\) not shown", result.text)
    assert tail is not None and int(tail.group(2)) >= storm - 200


async def test_a_tiny_cap_still_counts_every_alert() -> None:
    alerts = [am_alert(f"A{i}", {"severity": "warning", "pod": f"p{i}"}, i) for i in range(500)]
    result = await list_alerts(toolset(FakeAlertmanager(alerts), max_chars=2_000))
    assert len(result.text) <= 2_000
    assert _counted(result.text) == 500


async def test_long_descriptions_are_cut_to_the_summary_limit() -> None:
    alert = am_alert("Big", {"severity": "warning"}, 1, "word " * 200)
    result = await list_alerts(
        toolset(FakeAlertmanager([alert]), settings={"max_summary_chars": 40})
    )
    summary = result.text.splitlines()[2].split("cluster", 1)[1].strip()
    assert len(summary) == 40 and summary.endswith("...")


async def test_reading_stops_at_the_byte_cap_and_the_counts_say_at_least() -> None:
    alerts = [am_alert("A", {"severity": "warning", "pod": f"p{i}"}, 1) for i in range(2000)]
    ts = toolset(FakeAlertmanager(alerts), settings={"max_fetch_bytes": 100_000})
    result = await list_alerts(ts)
    assert result.text.startswith("at least ")
    assert "reading stopped at 100000 bytes; the counts above are lower bounds" in result.text
    assert result.data is not None and result.data["complete"] is False


async def test_a_rejected_matcher_is_an_error_quoting_alertmanager() -> None:
    fake = FakeAlertmanager([])
    fake.answer = httpx.Response(400, json='bad matcher format: severity="')
    result = await list_alerts(toolset(fake), severity='"')
    assert result.status is ToolStatus.ERROR
    assert result.text.startswith("ERROR: alertmanager rejected the request: ")
    assert "bad matcher format" in result.text


async def test_an_unreachable_alertmanager_is_source_unavailable_evidence() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    result = await list_alerts(toolset(refuse))
    assert result.status is ToolStatus.ERROR
    assert result.text == (
        "source unavailable: alertmanager source 'am': ConnectError: connection refused"
    )


@pytest.mark.parametrize(
    ("raw", "epoch"),
    [
        ("2027-01-15T08:00:00Z", NOW),
        ("2027-01-15T08:00:00.25Z", NOW + 0.25),
        ("2027-01-15T08:00:00.123456789Z", NOW + 0.123456789),  # Go prints nanoseconds
        ("2027-01-15T10:00:00.5+02:00", NOW + 0.5),
    ],
)
def test_alertmanager_times_parse_in_every_form_go_prints(raw: str, epoch: float) -> None:
    assert parse_time(raw) == pytest.approx(epoch, abs=1e-6)


async def test_an_older_root_cause_keeps_its_words_when_a_storm_fills_the_rows() -> None:
    storm = [
        am_alert("KubePodNotReady", {"namespace": "web", "pod": f"web-{i}", "severity": "warning"},
                 30 - i / 100, "Pod has been in a non-ready state")
        for i in range(1000)
    ]  # fmt: skip
    labels = {"namespace": "db", "service": "pgbouncer", "severity": "critical"}
    cause = am_alert("PgBouncerClientsWaiting", labels, 35, "remaining connection slots are gone")
    result = await list_alerts(toolset(FakeAlertmanager([*storm, cause])))
    row = next(line for line in result.text.splitlines() if "PgBouncerClientsWaiting" in line)
    assert row.split()[2:8] == ["1", "1", "critical", "PgBouncerClientsWaiting", "db/pgbouncer",
                                "remaining"]  # fmt: skip


async def test_an_endless_alert_stream_is_read_in_bounded_memory() -> None:
    async def endless() -> AsyncIterator[bytes]:
        yield b"["
        i = 0
        while True:
            alert = am_alert("KubePodNotReady", {"pod": f"web-{i % 50}", "severity": "warning"}, 5)
            yield json.dumps(alert).encode() + b","
            i += 1

    fake = FakeAlertmanager([])
    fake.answer = httpx.Response(200, content=endless())
    ts = toolset(fake, settings={"max_fetch_bytes": 2 << 20})
    tracemalloc.start()
    try:
        result = await list_alerts(ts)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert result.text.startswith("at least ")
    assert "in 50 groups" in result.text.splitlines()[0]
    assert peak < 1 << 20  # the groups are kept, the 2 MiB of alerts are not
