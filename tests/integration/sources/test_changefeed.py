"""The change-feed source reads a real control plane through a worker token: changes
posted by a CI sender come back as recent_changes and firewall_rules evidence."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from nightshift.agent.tools.protocol import ToolCall, ToolStatus
from nightshift.domain.vocabulary import Domain
from nightshift.sources.config import SourceConfig, SourceKind
from nightshift.sources.context import SourceContext
from nightshift.sources.registry import build_toolset
from tests.support.changefeed import FeedPlane, feed_plane

pytestmark = pytest.mark.slow
__all__ = ["feed_plane"]
SOURCE = SourceConfig(name="change-feed", kind=SourceKind.CHANGES, domain=Domain.APPLICATION)


@pytest.fixture(scope="module")
def posted(feed_plane: FeedPlane) -> FeedPlane:
    now = datetime.now(UTC)
    changes = [
        {"id": "REL-3.8.0", "actor": "github-actions (notifier#1182)", "kind": "deploy",
         "domain": "application", "summary": "notifier 3.7.4 -> 3.8.0: pluggable mail transports",
         "target": {"kind": "Deployment", "name": "notifier", "namespace": "messaging"},
         "details": "mail configuration is now read from MAIL_TRANSPORT_URL",
         "at": (now - timedelta(minutes=38)).isoformat()},
        {"id": "NET-5528", "actor": "netops-automation", "kind": "firewall", "domain": "network",
         "summary": "Allow 10.0.0.0/16 -> smtp-relay-03.mail.corp tcp/587",
         "target": "fw-dc-edge ruleset mail-relays", "at": (now - timedelta(hours=4)).isoformat()},
        {"id": "OLD-1", "actor": "someone", "kind": "config", "domain": "application",
         "summary": "long ago", "target": "legacy", "at": (now - timedelta(days=3)).isoformat()},
    ]  # fmt: skip
    headers = {"Authorization": f"Bearer {feed_plane.sender_token}"}
    for body in changes:
        resp = httpx.post(f"{feed_plane.plane.url}/v1/changes", json=body, headers=headers)
        assert resp.status_code == 201, resp.text
    return feed_plane


@pytest.fixture
async def worker_client(posted: FeedPlane) -> AsyncIterator[httpx.AsyncClient]:
    headers = {"Authorization": f"Bearer {posted.worker_token}"}
    async with httpx.AsyncClient(base_url=posted.plane.url, headers=headers) as client:
        yield client


def _toolset(plane: FeedPlane, client: httpx.AsyncClient, inv: str | None = None):  # type: ignore[no-untyped-def]
    context = SourceContext(
        inv or plane.investigation_id, frozenset({"shop"}), control_plane=client
    )
    return build_toolset([SOURCE], context)


async def test_recent_changes_come_from_the_feed_within_the_window(
    posted: FeedPlane, worker_client: httpx.AsyncClient
) -> None:
    tools = _toolset(posted, worker_client)
    res = await tools.call(ToolCall("recent_changes", {"since_minutes": 600}))
    assert res.status is ToolStatus.OK, res.error
    header, first, second = res.text.split("\n\n")[0].splitlines()
    assert header.split()[:3] == ["TIME", "AGE", "ID"]
    assert first.split()[2:6] == [
        "REL-3.8.0",
        "application",
        "deployment",
        "messaging/Deployment/notifier",
    ]
    assert second.split()[2:5] == ["NET-5528", "network", "firewall"]
    assert "REL-3.8.0: mail configuration is now read from MAIL_TRANSPORT_URL" in res.text
    assert "OLD-1" not in res.text
    network = await tools.call(
        ToolCall("recent_changes", {"since_minutes": 600, "domain": "network"})
    )
    assert "REL-3.8.0" not in network.text and "NET-5528" in network.text


async def test_firewall_rules_are_the_firewall_changes_mentioning_the_target(
    posted: FeedPlane, worker_client: httpx.AsyncClient
) -> None:
    tools = _toolset(posted, worker_client)
    res = await tools.call(ToolCall("firewall_rules", {"target": "smtp-relay-03.mail.corp"}))
    assert res.status is ToolStatus.OK and "NET-5528" in res.text
    assert "REL-3.8.0" not in res.text


async def test_list_alerts_with_no_alert_for_this_investigation_is_no_data(
    posted: FeedPlane, worker_client: httpx.AsyncClient
) -> None:
    res = await _toolset(posted, worker_client).call(ToolCall("list_alerts", {}))
    assert res.status is ToolStatus.NO_DATA


async def test_the_worker_token_reads_only_its_own_investigations_feed(
    posted: FeedPlane, worker_client: httpx.AsyncClient
) -> None:
    tools = _toolset(posted, worker_client, inv=posted.other_investigation_id)
    res = await tools.call(ToolCall("recent_changes", {}))
    assert res.status is ToolStatus.ERROR
    assert "HTTP 403" in res.text


def _started_by_alerts(posted: FeedPlane) -> str:
    """An investigation that three alerts (two of them one group) started."""
    plane = posted.plane
    with plane.client() as admin:
        route = {"name": "paging", "agent": "triage", "matchers": ['severity="critical"'],
                 "group_by": ["namespace"], "scenario": "two-am-cascade"}  # fmt: skip
        assert admin.post("/v1/alert-routes", json=route).status_code == 201

    def alert(name: str, service: str, summary: str, **extra: str) -> dict[str, object]:
        labels = {
            "alertname": name,
            "severity": "critical",
            "namespace": "shop",
            "service": service,
        }
        return {"labels": {**labels, **extra}, "annotations": {"summary": summary}}

    alerts = [
        alert("CheckoutErrors", "checkout", "5xx above 5%"),
        alert("CheckoutErrors", "checkout", "pod 1", pod="checkout-1"),
        alert("CartLatency", "cart", "p99 2s"),
    ]
    headers = {"Authorization": f"Bearer {posted.alert_token}"}
    resp = httpx.post(f"{plane.url}/v1/alerts", json={"alerts": alerts}, headers=headers)
    assert resp.status_code in (200, 202), resp.text
    (inv,) = resp.json()["started"]
    return str(inv)


async def test_list_alerts_summarizes_the_alerts_that_started_the_investigation(
    posted: FeedPlane,
) -> None:
    inv = await asyncio.to_thread(_started_by_alerts, posted)
    token = await asyncio.to_thread(posted.worker_token_for, inv)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=posted.plane.url, headers=headers) as client:
        res = await _toolset(posted, client, inv=inv).call(ToolCall("list_alerts", {}))
    assert res.status is ToolStatus.OK, res.text
    assert res.text.startswith("3 alerts firing (critical: 3")
    assert "CheckoutErrors" in res.text and "shop/checkout" in res.text and "shop/cart" in res.text
