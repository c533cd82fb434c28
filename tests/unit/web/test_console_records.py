"""The console's escalations, shadow review, audit, costs and alerts pages
(TestClient): the API's roles, CSRF on their forms, shadow output hidden from
those who may not see it, and text from outside (alert labels) kept inert."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from nightshift.domain.vocabulary import PrincipalKind, Role
from tests.support.control_plane import World
from tests.unit.web.console import EVIL, RESULT, api, finished, refused, sign_in
from tests.unit.workflow.flow import agent, finish, start

PAGES = ("/escalations", "/reviews", "/audit", "/costs", "/alerts")


def escalated(client: TestClient, world: World) -> str:
    """An investigation that ended escalated: the escalation service opens a case."""
    agent(world, "fixer", "limited-remediation")
    inv_id, worker = start(client, world, "fixer")
    finish(client, inv_id, worker, status="escalated", result=RESULT)
    [esc] = api(client, world, "/v1/escalations")
    assert esc["investigation_id"] == inv_id
    return str(esc["id"])


def shadow_item(client: TestClient, world: World) -> tuple[str, str]:
    agent(world, "quiet", "shadow")
    inv_id, worker = start(client, world, "quiet")
    finish(client, inv_id, worker, result=RESULT)
    [item] = api(client, world, "/v1/reviews/shadow")
    return inv_id, str(item["id"])


def test_the_new_pages_need_a_session_and_are_in_the_navigation(
    client: TestClient, world: World
) -> None:
    for path in PAGES:
        resp = client.get(path, follow_redirects=False)
        assert resp.status_code == 303 and resp.headers["location"] == "/login"
    sign_in(client, world, "viewer")
    nav = client.get("/investigations").text
    for path in PAGES:
        assert f'href="{path}"' in nav
        resp = client.get(path)
        assert resp.status_code == 200, path
        assert "unsafe-inline" not in resp.headers["content-security-policy"]
        assert "<main>" in resp.text and "<title>" in resp.text


def test_a_viewer_reads_escalations_but_cannot_acknowledge_or_resolve(
    client: TestClient, world: World
) -> None:
    esc_id = escalated(client, world)
    csrf = sign_in(client, world, "viewer")
    page = client.get("/escalations").text
    assert f'id="e-{esc_id}"' in page and "breaker" in page
    assert "/ack" not in page and "/resolve" not in page
    for action, data in (("ack", {}), ("resolve", {"resolution": "forged"})):
        refused(client, f"/escalations/{esc_id}/{action}", {"csrf": csrf, **data})
    assert api(client, world, f"/v1/escalations/{esc_id}")["status"] == "open"


def test_an_operator_acknowledges_then_resolves_through_the_service_and_audit(
    client: TestClient, world: World
) -> None:
    esc_id = escalated(client, world)
    csrf = sign_in(client, world, "operator")
    page = client.get("/escalations").text
    assert f"/escalations/{esc_id}/ack" in page
    refused(client, f"/escalations/{esc_id}/ack", {"note": "on it"})
    resp = client.post(f"/escalations/{esc_id}/ack", data={"csrf": csrf, "note": "on it"})
    assert resp.status_code == 200 and "acked" in resp.text
    empty = client.post(f"/escalations/{esc_id}/resolve", data={"csrf": csrf, "resolution": " "})
    assert "say how it was resolved" in empty.text
    assert api(client, world, f"/v1/escalations/{esc_id}")["status"] == "acked"
    client.post(
        f"/escalations/{esc_id}/resolve",
        data={"csrf": csrf, "resolution": "reverted CHG-20417", "warranted": "yes"},
    )
    got = api(client, world, f"/v1/escalations/{esc_id}")
    assert (got["status"], got["warranted"]) == ("resolved", True)
    decisions = [r.entry.decision for r in world.container.audit.recent(50, "operator")]
    assert "acked" in decisions and "resolved" in decisions
    assert f"/escalations/{esc_id}/resolve" not in client.get("/escalations").text


def test_the_review_list_shows_no_diagnosis_and_only_ops_leads_open_and_mark_it(
    client: TestClient, world: World
) -> None:
    inv_id, item_id = shadow_item(client, world)
    csrf = sign_in(client, world, "operator")
    listing = client.get("/reviews").text
    assert f'id="r-{item_id}"' in listing
    assert "firewall-rule-change" not in listing and f'href="/reviews/{item_id}"' not in listing
    assert client.get(f"/reviews/{item_id}").status_code == 403  # as GET /v1/reviews/shadow/ID
    refused(client, f"/reviews/{item_id}/review", {"csrf": csrf})
    csrf = sign_in(client, world, "lead")
    assert f'href="/reviews/{item_id}"' in client.get("/reviews").text
    detail = client.get(f"/reviews/{item_id}").text
    assert 'id="shadow-output"' in detail and "firewall-rule-change" in detail
    assert "<script>alert" not in detail and "&lt;script&gt;" in detail
    client.post(f"/reviews/{item_id}/review", data={"csrf": csrf, "note": "matches CHG-20417"})
    assert f'id="r-{item_id}"' not in client.get("/reviews").text  # open by default
    assert f'id="r-{item_id}"' in client.get("/reviews?status=reviewed").text
    # Reviewed: the investigation's output is no longer concealed from an operator.
    api = client.get(f"/v1/investigations/{inv_id}", headers=world.auth("operator")).json()
    assert api["result"] is not None


def test_a_viewer_sees_the_chain_status_but_not_the_records(
    client: TestClient, world: World
) -> None:
    inv_id, _ = finished(client, world)
    sign_in(client, world, "viewer")
    page = client.get(f"/audit?investigation={inv_id}").text
    assert 'id="verify-status"' in page and "intact" in page
    assert 'id="audit-records"' not in page and "ops-lead role" in page


def test_an_ops_lead_reads_who_authorized_what_for_an_investigation(
    client: TestClient, world: World
) -> None:
    inv_id, _ = finished(client, world)
    sign_in(client, world, "lead")
    page = client.get(f"/audit?investigation={inv_id}").text
    rows = re.findall(r'<tr id="a-(\d+)">', page)
    expected = [str(r.seq) for r in world.container.audit.for_investigation(inv_id)]
    assert rows == expected and rows
    assert "revert-firewall-rule" in page  # the proposal's policy decision is in the trail


def test_a_broken_chain_shows_as_broken(client: TestClient, world: World) -> None:
    finished(client, world)
    from nightshift.store.tables import AuditRecordRow

    with world.container.db.transaction() as s:  # tamper, as an attacker with DB access would
        row = s.get(AuditRecordRow, 0)
        assert row is not None
        row.body = {**row.body, "intent": "nothing to see"}
    sign_in(client, world, "viewer")
    assert "BROKEN" in client.get("/audit").text


def test_costs_list_each_investigation_and_agent_with_its_tokens(
    client: TestClient, world: World
) -> None:
    agent(world, "fixer", "limited-remediation")
    inv_id, worker = start(client, world, "fixer")
    call = {"model": "m", "input_tokens": 1200, "output_tokens": 340, "cached_tokens": 5}
    client.post(
        f"/v1/investigations/{inv_id}/worker/events",
        json={"events": [{"kind": "llm.call", "data": call}, {"kind": "llm.call", "data": call}]},
        headers=worker,
    )
    finish(client, inv_id, worker, result=RESULT)
    sign_in(client, world, "viewer")
    page = client.get("/costs").text
    row = page[page.index(f'<a href="/investigations/{inv_id}">') :].split("</tr>")[0]
    assert "2400 / 680 / 10" in row and "<td>2</td>" in row
    assert "2400 / 680 / 10" in page[page.index("By agent") : page.index("By category")]
    assert client.get("/costs?days=0").status_code == 422
    facts = client.get(f"/investigations/{inv_id}").text
    assert "tokens in / out / cached 2400 / 680 / 10 in 2 LLM calls" in facts
    assert f'href="/audit?investigation={inv_id}"' in facts


def test_alerts_show_the_investigation_that_absorbed_them_and_stay_inert(
    client: TestClient, world: World
) -> None:
    world.container.principals.create_user(
        "am", kind=PrincipalKind.SERVICE, roles=frozenset({Role.ALERT_SENDER})
    )
    sender = {"Authorization": f"Bearer {world.container.principals.create_token('am')}"}
    route = {"name": "paging", "matchers": ['severity="page"'], "agent": "triage",
             "scenario": "two-am-cascade"}  # fmt: skip
    assert (
        client.post("/v1/alert-routes", json=route, headers=world.auth("lead")).status_code == 201
    )
    alert = {"labels": {"alertname": "CheckoutErrors", "severity": "page", "note": EVIL},
             "annotations": {"summary": EVIL}}  # fmt: skip
    intake = client.post("/v1/alerts", json={"alerts": [alert]}, headers=sender)
    assert intake.status_code == 200, intake.text
    [started] = intake.json()["started"]
    sign_in(client, world, "viewer")
    page = client.get("/alerts").text
    assert "CheckoutErrors" in page and f'href="/investigations/{started}"' in page
    assert "<script>alert" not in page and "&lt;script&gt;" in page
    assert "paging" in page[page.index('id="routes"') :]
    assert "CheckoutErrors" not in client.get("/alerts?status=resolved").text
    absorbed = client.get(f"/investigations/{started}").text
    assert "CheckoutErrors" in absorbed[absorbed.index('id="alerts"') :]
    assert "<script>alert" not in absorbed
