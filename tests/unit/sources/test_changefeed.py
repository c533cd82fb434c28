"""The change-feed source over a fake control plane (httpx MockTransport); the real
one is exercised in tests/integration/sources/test_changefeed.py."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from nightshift.agent.tools.protocol import ToolCall, ToolStatus
from nightshift.domain.vocabulary import Domain
from nightshift.sources.changefeed import ChangeFeedToolset, build
from nightshift.sources.config import SourceConfig, SourceKind, SourcesError
from nightshift.sources.context import SourceContext

NOW = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)
BASE = "/v1/investigations/inv-1/worker"
CHANGES = [
    {"ref": "NET-5528", "at": "2026-12-02T02:20:00Z", "kind": "firewall", "domain": "network",
     "target": "fw-dc-edge ruleset mail-relays", "actor": "netops-automation",
     "summary": "Allow 10.0.0.0/16 -> smtp-relay-03.mail.corp tcp/587", "details": ""},
    {"ref": "REL-3.8.0", "at": "2026-12-02T02:00:00Z", "kind": "deploy", "domain": "application",
     "target": "messaging/Deployment/notifier", "actor": "github-actions",
     "summary": "notifier 3.7.4 -> 3.8.0", "details": "mail config moved to MAIL_TRANSPORT_URL"},
]  # fmt: skip


def toolset(handler: Callable[[httpx.Request], httpx.Response], **kw: Any) -> ChangeFeedToolset:
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler), base_url="http://cp")
    return ChangeFeedToolset(client, "inv-1", clock=lambda: NOW, **kw)


def feed(seen: list[httpx.Request]) -> Callable[[httpx.Request], httpx.Response]:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == f"{BASE}/changes":
            kind = request.url.params.get("kind")
            return httpx.Response(
                200, json={"changes": [c for c in CHANGES if not kind or c["kind"] == kind]}
            )
        return httpx.Response(404, json={"error": "http_404"})

    return handle


async def test_recent_changes_render_the_simulated_worlds_columns_with_reasoner_words() -> None:
    seen: list[httpx.Request] = []
    res = await toolset(feed(seen)).call(
        ToolCall("recent_changes", {"since_minutes": 120, "domain": "network"})
    )
    assert res.status is ToolStatus.OK
    header, first, second = res.text.split("\n\n")[0].splitlines()
    assert header.split() == ["TIME", "AGE", "ID", "DOMAIN", "KIND", "TARGET", "ACTOR", "SUMMARY"]
    assert first.split()[:5] == ["2026-12-02T02:20:00Z", "40m", "NET-5528", "network", "firewall"]
    assert second.split()[4:6] == ["deployment", "messaging/Deployment/notifier"]
    assert "REL-3.8.0: mail config moved to MAIL_TRANSPORT_URL" in res.text
    assert (
        seen[0].url.params["since_minutes"] == "120" and seen[0].url.params["domain"] == "network"
    )


async def test_firewall_rules_are_the_firewall_changes_that_mention_the_target() -> None:
    t = toolset(feed([]))
    hit = await t.call(ToolCall("firewall_rules", {"target": "smtp-relay-03.mail.corp:587"}))
    assert hit.status is ToolStatus.OK and "NET-5528" in hit.text and "REL-3.8.0" not in hit.text
    miss = await t.call(ToolCall("firewall_rules", {"target": "payments-db"}))
    assert miss.status is ToolStatus.NO_DATA and "payments-db" in miss.text


async def test_list_alerts_is_no_data_when_the_control_plane_has_no_alert_intake() -> None:
    res = await toolset(feed([])).call(ToolCall("list_alerts", {}))
    assert res.status is ToolStatus.NO_DATA and "no alert intake" in res.text


async def test_list_alerts_summarizes_firing_alerts_by_name_severity_and_target() -> None:
    def alert(name: str, pod: str, status: str = "firing") -> dict[str, Any]:
        labels = {"alertname": name, "severity": "critical", "namespace": "shop", "pod": pod}
        return {"fingerprint": name + pod, "status": status, "labels": labels,
                "annotations": {"summary": f"{name} on {pod}"}, "starts_at": "2026-12-02T02:30:00Z",
                "ends_at": None, "received_count": 3}  # fmt: skip

    body = {"alerts": [alert("CrashLoop", "a"), alert("CrashLoop", "a"), alert("CrashLoop", "b"),
                       alert("Old", "c", status="resolved")]}  # fmt: skip
    res = await toolset(lambda r: httpx.Response(200, json=body)).call(ToolCall("list_alerts", {}))
    assert res.status is ToolStatus.OK
    assert res.text.startswith("3 alerts firing (critical: 3")
    assert "shop/a" in res.text and "shop/b" in res.text and "Old" not in res.text


async def test_an_answer_larger_than_the_cap_is_refused_not_buffered() -> None:
    from nightshift.sources.changefeed import ChangeFeedSettings

    big = json.dumps({"changes": CHANGES * 2000})
    t = toolset(
        lambda r: httpx.Response(200, text=big), settings=ChangeFeedSettings(max_fetch_bytes=65536)
    )
    with pytest.raises(RuntimeError, match="exceeds 65536 bytes"):
        await t.call(ToolCall("recent_changes", {}))


def test_the_source_needs_the_worker_client_and_valid_settings() -> None:
    source = SourceConfig(name="feed", kind=SourceKind.CHANGES, domain=Domain.APPLICATION)
    with pytest.raises(SourcesError, match="runs only in a worker"):
        build(source, SourceContext("inv-1", frozenset({"shop"})))
    bad = source.model_copy(update={"settings": {"alert": True}})
    with pytest.raises(SourcesError, match=r"settings\.alert"):
        build(bad, SourceContext("inv-1", frozenset({"shop"}), control_plane=httpx.AsyncClient()))
