"""The console's pages and forms (TestClient): sign-in cookie, role checks as
in the API, CSRF on every form, inert tool text, the security headers."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.support.control_plane import World
from tests.unit.web.console import RESULT, api, finished, refused, sign_in
from tests.unit.workflow.flow import agent, finish, start


def test_pages_need_a_session_and_a_bad_token_opens_none(client: TestClient, world: World) -> None:
    for path in ("/", "/investigations", "/approvals", "/agents"):
        resp = client.get(path, follow_redirects=False)
        assert resp.status_code == 303
        assert resp.headers["location"] in ("/login", "/investigations")
    bad = client.post("/login", data={"token": "nsh_forged"}, follow_redirects=False)
    assert bad.status_code == 401 and "invalid" in bad.text
    assert "nightshift_console" not in bad.headers.get("set-cookie", "")


def test_the_session_cookie_is_httponly_strict_and_not_the_token(
    client: TestClient, world: World
) -> None:
    resp = client.post("/login", data={"token": world.tokens["viewer"]}, follow_redirects=False)
    cookie = resp.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
    assert "Secure" not in cookie  # plain http in "auto" mode
    assert world.tokens["viewer"] not in cookie


def test_cookie_secure_always_sets_secure(world: World) -> None:
    from nightshift.api.app import create_app

    world.container.settings = world.container.settings.model_copy(
        update={"console_cookie_secure": "always"}
    )
    with TestClient(create_app(world.container, background=False)) as c:
        resp = c.post("/login", data={"token": world.tokens["viewer"]}, follow_redirects=False)
        assert "Secure" in resp.headers["set-cookie"]


def test_every_page_sends_a_strict_csp(client: TestClient, world: World) -> None:
    sign_in(client, world, "viewer")
    for path in ("/login", "/investigations", "/approvals", "/agents", "/static/console.css"):
        csp = client.get(path).headers["content-security-policy"]
        assert "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
        assert "script-src 'self'" in csp


def test_the_investigation_page_shows_tree_chain_evidence_and_keeps_tool_text_inert(
    client: TestClient, world: World
) -> None:
    inv_id, _ = finished(client, world)
    sign_in(client, world, "viewer")
    listing = client.get("/investigations").text
    assert f"/investigations/{inv_id}" in listing and "firewall-rule-change" in listing
    page = client.get(f"/investigations/{inv_id}").text
    assert "<script>alert" not in page and "onerror=" not in page.replace("onerror=&#34;", "")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    # H2's parent link points at H1, and H2 is nested inside H1's list item.
    h1 = page.index('id="hyp-H1"')
    h2 = page.index('id="hyp-H2"')
    assert h1 < h2 and 'href="#hyp-H1">H1</a>' in page[h2:]
    assert 'id="ev-E1"' in page and "fw-dc-edge-01" in page
    assert page.index("root-cause") < page.index("symptom")
    assert f'<pre class="out" tabindex="0" id="worker-log">log of {inv_id}' in page


def test_a_viewer_sees_no_approve_button_and_a_forged_post_is_refused(
    client: TestClient, world: World
) -> None:
    _, proposal = finished(client, world)
    csrf = sign_in(client, world, "viewer")
    page = client.get("/approvals").text
    assert proposal["action"] in page and "/approve" not in page
    refused(client, f"/approvals/{proposal['id']}/approve", {"csrf": csrf})
    assert api(client, world, f"/v1/approvals/{proposal['id']}")["status"] == "pending_approval"


def test_a_form_without_the_sessions_csrf_token_changes_nothing(
    client: TestClient, world: World
) -> None:
    _, proposal = finished(client, world)
    sign_in(client, world, "operator")
    for data in ({}, {"csrf": "guessed"}):
        assert "CSRF" in refused(client, f"/approvals/{proposal['id']}/approve", data).text
    assert api(client, world, f"/v1/approvals/{proposal['id']}")["status"] == "pending_approval"


def test_an_operator_approves_through_the_same_service_and_audit(
    client: TestClient, world: World
) -> None:
    inv_id, proposal = finished(client, world)
    csrf = sign_in(client, world, "operator")
    assert f"/approvals/{proposal['id']}/approve" in client.get("/approvals").text
    resp = client.post(
        f"/approvals/{proposal['id']}/approve",
        data={"csrf": csrf, "reason": "matches CHG-20417"},
        follow_redirects=False,
    )
    assert resp.status_code == 303 and "ok=" in resp.headers["location"]
    got = api(client, world, f"/v1/approvals/{proposal['id']}")
    assert got["decided_by"] == "operator" and got["status"] != "pending_approval"
    audited = [
        r.entry
        for r in world.container.audit.for_investigation(inv_id)
        if r.entry.request.get("proposal") == proposal["id"]
    ]
    assert any(e.actor == "operator" for e in audited)


def test_rejecting_needs_a_reason_and_says_why(client: TestClient, world: World) -> None:
    _, proposal = finished(client, world)
    csrf = sign_in(client, world, "operator")
    resp = client.post(f"/approvals/{proposal['id']}/reject", data={"csrf": csrf, "reason": ""})
    assert resp.status_code == 200 and "reason" in resp.text.lower()
    got = api(client, world, f"/v1/approvals/{proposal['id']}")
    assert got["status"] == "pending_approval"


def test_an_operator_judges_the_diagnosis(client: TestClient, world: World) -> None:
    inv_id, _ = finished(client, world)
    csrf = sign_in(client, world, "operator")
    resp = client.post(
        f"/investigations/{inv_id}/verdict",
        data={"csrf": csrf, "kind": "modify", "reason": "it was the rule, not the change",
              "category": "change", "remediation_class": "revert-firewall-rule",
              "fault": "firewall-rule-change"},
    )  # fmt: skip
    assert resp.status_code == 200
    listed = client.get(f"/v1/investigations/{inv_id}/verdicts", headers=world.auth("viewer"))
    assert [v["kind"] for v in listed.json()] == ["modify"]
    assert "verdict modify recorded" in resp.text


def test_the_kill_switch_is_for_ops_leads_and_shows_on_every_page(
    client: TestClient, world: World
) -> None:
    csrf = sign_in(client, world, "operator")
    assert "/kill-switch" not in client.get("/agents").text
    refused(client, "/kill-switch", {"csrf": csrf, "reason": "x", "engage": "yes"})
    csrf = sign_in(client, world, "lead")
    client.post("/kill-switch", data={"csrf": csrf, "reason": "storm", "engage": "yes"})
    assert "KILL SWITCH ENGAGED" in client.get("/approvals").text
    assert world.container.kill_switch.kill_switch().global_engaged
    client.post("/kill-switch", data={"csrf": csrf, "reason": "calm", "engage": "no"})
    assert "KILL SWITCH ENGAGED" not in client.get("/approvals").text


def test_signing_out_ends_the_session(client: TestClient, world: World) -> None:
    csrf = sign_in(client, world, "viewer")
    resp = client.post("/logout", data={"csrf": csrf}, follow_redirects=False)
    assert resp.status_code == 303
    assert client.get("/investigations", follow_redirects=False).status_code == 303


def test_a_one_time_link_opens_one_session(client: TestClient, world: World) -> None:
    secret = world.container.console_sessions.issue_link("operator")
    first = client.get(f"/login/link?secret={secret}", follow_redirects=False)
    assert first.status_code == 303
    client.cookies.clear()
    again = client.get(f"/login/link?secret={secret}", follow_redirects=False)
    assert again.status_code == 401


def test_the_approvals_queue_shows_pending_by_default_and_any_on_request(
    client: TestClient, world: World
) -> None:
    _, proposal = finished(client, world)
    csrf = sign_in(client, world, "operator")
    client.post(f"/approvals/{proposal['id']}/reject", data={"csrf": csrf, "reason": "no"})
    assert f'id="p-{proposal["id"]}"' not in client.get("/approvals").text
    assert f'id="p-{proposal["id"]}"' in client.get("/approvals?status=any").text
    assert f'id="p-{proposal["id"]}"' in client.get("/approvals?status=rejected").text


def test_shadow_output_stays_hidden_from_operators_as_in_the_api(
    client: TestClient, world: World
) -> None:
    agent(world, "quiet", "shadow")
    inv_id, worker = start(client, world, "quiet")
    finish(client, inv_id, worker, result=RESULT)
    api = client.get(f"/v1/investigations/{inv_id}", headers=world.auth("operator")).json()
    assert api["result"] is None  # the API conceals it: so must the page
    sign_in(client, world, "operator")
    page = client.get(f"/investigations/{inv_id}").text
    assert "concealed until an ops lead reviews it" in page
    assert 'id="hyp-H1"' not in page and "fw-dc-edge-01" not in page and "worker-log" not in page
    sign_in(client, world, "admin")
    assert 'id="hyp-H1"' in client.get(f"/investigations/{inv_id}").text


def test_the_live_stream_needs_a_session_and_resumes_after_the_last_event(
    client: TestClient, world: World
) -> None:
    inv_id, _ = finished(client, world)
    assert client.get(f"/investigations/{inv_id}/events").status_code == 401
    sign_in(client, world, "viewer")
    full = client.get(f"/investigations/{inv_id}/events").text
    ids = [int(x) for x in re.findall(r"^id: (\d+)$", full, re.M)]
    assert len(ids) >= 3 and "event: status" in full
    resumed = client.get(
        f"/investigations/{inv_id}/events", headers={"Last-Event-ID": str(ids[1])}
    ).text
    assert [int(x) for x in re.findall(r"^id: (\d+)$", resumed, re.M)] == ids[2:]


def test_a_notice_shows_only_for_the_session_it_was_made_for(
    client: TestClient, world: World
) -> None:
    """The console's notices travel in the redirect's URL, signed with the session's
    CSRF secret: a crafted link cannot put text of its own on a reader's console."""
    _, proposal = finished(client, world)
    csrf = sign_in(client, world, "operator")
    resp = client.post(
        f"/approvals/{proposal['id']}/reject",
        data={"csrf": csrf, "reason": "not this one"},
        follow_redirects=False,
    )
    back = resp.headers["location"]
    assert resp.status_code == 303 and "sig=" in back
    shown = client.get(back).text
    assert 'class="flash ok"' in shown and "reject" in shown.lower()
    lure = "Your session expired: sign in again at evil.example"
    for crafted in (f"/approvals?error={lure}", f"/approvals?ok={lure}&sig={'0' * 32}"):
        page = client.get(crafted)
        assert page.status_code == 200 and "evil.example" not in page.text
    # A link signed for another session shows nothing here either.
    sign_in(client, world, "operator")  # a new session, a new CSRF secret
    assert 'class="flash ok"' not in client.get(back).text
