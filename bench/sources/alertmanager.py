"""list_alerts against a real Alertmanager holding 10, 3,000 and 30,000 alerts.

.venv/bin/python -m bench.sources --only alertmanager
"""

from __future__ import annotations

import asyncio

from bench.sources.common import Row, row, timed
from nightshift.agent.tools.protocol import ToolCall
from nightshift.sources.config import SourceConfig
from nightshift.sources.context import SourceContext
from nightshift.sources.registry import build_toolset
from tests.support import alertmanager
from tests.support.alertmanager import alert

KIND = "alertmanager"


def _storm(count: int) -> list[dict[str, object]]:
    alerts = [
        alert("KubePodNotReady", {"namespace": f"team-{i % 50}", "pod": f"web-{i}",
              "severity": "warning"}, started_minutes_ago=90 - i * 60 / count,
              description="Pod has been in a non-ready state for more than 15 minutes.")
        for i in range(count - 1)
    ]  # fmt: skip
    alerts.append(alert("PgBouncerClientsWaiting", {"namespace": "db", "service": "pgbouncer",
                        "severity": "critical"}, started_minutes_ago=95,
                        description="orders pool: 42 clients waiting"))  # fmt: skip
    return alerts


async def _latency(url: str, case: str, params: dict[str, str], samples: int) -> Row:
    source = SourceConfig(name="bench", kind=KIND, domain="application", url=url)
    tools = build_toolset([source], SourceContext("bench", frozenset({"*"})))
    call = ToolCall("list_alerts", params)

    async def once() -> None:
        result = await tools.call(call)
        assert result.status.value == "ok", result.text
        assert len(result.text) <= source.max_answer_chars

    return row(KIND, "list_alerts", case, await timed(once, samples, warmup=2))


def measure() -> list[Row]:
    reason = alertmanager.available()
    if reason:
        raise RuntimeError(reason)
    rows: list[Row] = []
    for count, samples in ((10, 40), (3_000, 20), (30_000, 8)):
        server = alertmanager.start()
        try:
            server.post(_storm(count))
            server.wait_for_alerts(count, timeout=120)
            rows.append(asyncio.run(_latency(server.url, f"{count} alerts, summarized", {},
                                             samples)))  # fmt: skip
            if count > 10:
                rows.append(asyncio.run(_latency(server.url, f"{count} alerts, critical only",
                                                 {"severity": "critical"}, samples)))  # fmt: skip
        finally:
            alertmanager.stop(server)
    return rows
