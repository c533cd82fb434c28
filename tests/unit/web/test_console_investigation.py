"""The investigation page for results of every shape: a failed, cancelled or
early-ended investigation stores a partial result (no ``cycles``, no
``tool_calls``, sometimes no evidence at all) and its page must still render."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support.control_plane import World
from tests.unit.web.console import sign_in
from tests.unit.workflow.flow import agent, start

PARTIAL: list[tuple[str, dict[str, Any]]] = [
    ("failed", {"summary": "the reasoner crashed in cycle 1"}),
    ("failed", {"hypotheses": [{"id": "H1", "fault": "oom", "confidence": 0.4}]}),
    ("failed", {"diagnosis": {"evidence": [{"id": "E1", "tool": "pods"}]}}),
    ("escalated", {"root_causes": [{"fault": "disk-full"}], "cycles": 2}),
    ("escalated", {"causal_chain": [{"role": "root-cause"}], "hypotheses": None}),
]


def _ended(client: TestClient, world: World, status: str, result: dict[str, Any]) -> str:
    agent(world, "fixer", "limited-remediation")
    inv_id, worker = start(client, world, "fixer")
    resp = client.post(
        f"/v1/investigations/{inv_id}/worker/result",
        json={"status": status, "reason": "ended early", "result": result},
        headers=worker,
    )
    assert resp.status_code == 200, resp.text
    return inv_id


@pytest.mark.parametrize(("status", "result"), PARTIAL, ids=range(len(PARTIAL)))
def test_an_investigation_that_ended_early_renders_its_partial_result(
    client: TestClient, world: World, status: str, result: dict[str, Any]
) -> None:
    inv_id = _ended(client, world, status, result)
    sign_in(client, world, "operator")
    resp = client.get(f"/investigations/{inv_id}")
    assert resp.status_code == 200, resp.text[:2000]
    assert f"s-{status}" in resp.text
    assert "ended early" in resp.text  # the reason it ended is on the page
    assert client.get("/investigations").status_code == 200  # its row in the list too


def test_a_cancelled_investigation_without_a_result_renders(
    client: TestClient, world: World
) -> None:
    agent(world, "fixer", "limited-remediation")
    inv_id, _ = start(client, world, "fixer")
    resp = client.post(
        f"/v1/investigations/{inv_id}/cancel",
        json={"reason": "ended early"},
        headers=world.auth("operator"),
    )
    assert resp.status_code == 200, resp.text
    sign_in(client, world, "operator")
    page = client.get(f"/investigations/{inv_id}")
    assert page.status_code == 200, page.text[:2000]
    assert "s-cancelled" in page.text


def test_evidence_past_the_inline_budget_loads_on_demand_as_plain_text(
    client: TestClient, world: World
) -> None:
    from nightshift.web.views import INLINE_EVIDENCE_CHARS

    per = 4096
    count = INLINE_EVIDENCE_CHARS // per + 20  # 20 items past the budget
    evidence = [{"id": f"E{i}", "tool": "pods", "findings": [f"<b>text-{i}</b>" + "x" * per]}
                for i in range(count)]  # fmt: skip
    inv_id = _ended(client, world, "failed", {"evidence": evidence})
    sign_in(client, world, "viewer")
    page = client.get(f"/investigations/{inv_id}").text
    assert "&lt;b&gt;text-0&lt;/b&gt;" in page  # the first items are inline
    last = f"E{count - 1}"
    assert f"text-{count - 1}<" not in page and f"text-{count - 1}&lt;" not in page
    assert f'data-src="/investigations/{inv_id}/evidence/{last}"' in page
    assert len(page) < count * per  # the page does not carry all the text
    text = client.get(f"/investigations/{inv_id}/evidence/{last}")
    assert text.status_code == 200 and text.headers["content-type"].startswith("text/plain")
    assert text.text.startswith(f"<b>text-{count - 1}</b>")
    assert "nosniff" in text.headers["x-content-type-options"]
    assert client.get(f"/investigations/{inv_id}/evidence/E999999").status_code == 404
    client.cookies.clear()
    assert (
        client.get(f"/investigations/{inv_id}/evidence/{last}", follow_redirects=False).status_code
        == 303
    )


def test_the_timeline_orders_alerts_changes_and_cycles(client: TestClient, world: World) -> None:
    from datetime import UTC, datetime, timedelta
    from types import SimpleNamespace as Rec

    from nightshift.web.views import chronology

    t0 = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)
    alerts = [Rec(first_received_at=t0 + timedelta(seconds=i), labels={"alertname": "Http5xx"},
                 fingerprint=f"f{i}") for i in range(300)]  # fmt: skip
    alerts.append(Rec(first_received_at=t0 + timedelta(minutes=9), labels={}, fingerprint="lat"))
    change = Rec(at=t0 - timedelta(minutes=5), ref="FW-3141", actor="neteng", summary="deny 443")
    naive = t0.replace(tzinfo=None)  # SQLite hands times back without a zone
    cycles = [Rec(kind="cycle.finished", created_at=naive + timedelta(minutes=10 + i),
                  data={"cycle": i + 1, "top": {"fault": "firewall", "confidence": 0.5}})
              for i in range(15)]  # fmt: skip
    lines = chronology(alerts, [change], cycles)
    assert [m.kind for m in lines] == ["change", "alert", "alert"] + ["cycle"] * 15
    assert lines[1].text == "Http5xx x300, until 02:04:59"
    assert lines[-1].text == "cycle 15: leading firewall 0.50"


def test_the_page_shows_the_newest_steps_and_every_cycle_of_a_long_run(
    client: TestClient, world: World
) -> None:
    agent(world, "fixer", "limited-remediation")
    inv_id, worker = start(client, world, "fixer")
    events: list[dict[str, Any]] = []
    for i in range(400):
        events.append({"kind": "tool.requested", "data": {"tool": "pods", "intent": f"step-{i}."}})
        if i % 100 == 0:
            events.append({"kind": "cycle.finished", "data": {"cycle": i // 100 + 1, "top": {}}})
    for chunk in (events[:250], events[250:]):
        resp = client.post(
            f"/v1/investigations/{inv_id}/worker/events", json={"events": chunk}, headers=worker
        )
        assert resp.status_code == 200, resp.text
    sign_in(client, world, "viewer")
    page = client.get(f"/investigations/{inv_id}").text
    chronology = page[page.index('id="chronology"') : page.index("<h2>Steps")]
    assert [f"cycle {n}: no hypothesis yet" in chronology for n in (1, 2, 3, 4)] == [True] * 4
    steps = page[page.index("<h2>Steps") :]
    assert "step-399." in steps and "step-0." not in steps
    assert steps.count("<tr><td>") == 300
    assert "earlier ones" in steps
