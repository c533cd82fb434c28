"""Chromium against the console served over real HTTP (uvicorn) from an
in-process control plane whose worker is this test: it streams tool text
carrying ``<script>`` and ``<img onerror>`` into an open investigation page
and checks nothing runs and the text reads literally; then every page passes
a basic accessibility check written here (a title, one main landmark, every
form control labelled, images with alt, buttons with names).

The worker is played by the test (not `nightshift up`'s real worker) so the
hostile text arrives exactly as a tool could return it, at a known moment.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from nightshift.api.app import create_app
from nightshift.domain.vocabulary import PrincipalKind, Role
from tests.integration.console.axe import axe_source, serious_violations
from tests.integration.console.browser import browser_context, require_chromium, sign_in
from tests.support.control_plane import World, make_world
from tests.support.postgres import free_port
from tests.unit.workflow.flow import agent, finish, propose, start

pytestmark = pytest.mark.slow

# Each payload would set window.__pwned if it ever became markup and ran.
SCRIPT = "<script>window.__pwned = 'script'</script>"
IMG = "<img src=x onerror=\"window.__pwned = 'img'\">"
HOSTILE = f"drops on fw-dc-edge-01 {SCRIPT} {IMG}"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[World, httpx.Client, str]]:
    require_chromium()
    world = make_world(tmp_path, notify_async=False, oncall_contact="oncall@example.org")
    world.container.principals.create_user(
        "am", kind=PrincipalKind.SERVICE, roles=frozenset({Role.ALERT_SENDER})
    )
    world.tokens["sender"] = world.container.principals.create_token("am")
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(world.container, background=False), port=port, log_level="warning"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the console did not start"
        time.sleep(0.05)
    try:
        with httpx.Client(base_url=url, timeout=30) as api:
            yield world, api, url
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        world.container.db.dispose()


def _evidence(eid: str) -> dict[str, Any]:
    return {"id": eid, "tool": "firewall_rules", "params": {"device": "fw-dc-edge-01"},
            "summary": HOSTILE, "domain": "network", "status": "ok",
            "findings": [SCRIPT, IMG]}  # fmt: skip


# A parent and a child: the tree's folding, meters and parent links are on the page.
HYPOTHESES = [
    {"id": "H1", "fault": "firewall-rule-change", "confidence": 0.7, "state": "confirmed",
     "parent_id": None, "resource": {"kind": "Change", "name": "CHG-20417"},
     "supporting": ["E1"], "refuting": [], "rationale": "change before onset"},
    {"id": "H2", "fault": "high-latency-dependency", "confidence": 0.2, "state": "rejected",
     "parent_id": "H1", "resource": {"kind": "Deployment", "name": "checkout"},
     "supporting": [], "refuting": ["E1"], "rationale": "latency follows the drops"},
]  # fmt: skip


def _result(summary: str, root_causes: list[dict[str, Any]]) -> dict[str, Any]:
    return {"summary": summary, "hypotheses": HYPOTHESES, "root_causes": root_causes,
            "evidence": [_evidence("E1")], "causal_chain": [], "cycles": 1,
            "tool_calls": 1}  # fmt: skip


def test_streamed_tool_text_stays_inert_and_literal(
    served: tuple[World, httpx.Client, str], tmp_path: Path
) -> None:
    world, api, url = served
    agent(world, "fixer", "limited-remediation")
    inv_id, worker = start(api, world, "fixer")  # type: ignore[arg-type]
    with browser_context(tmp_path / "profile") as ctx:
        page: Any = ctx.new_page()  # type: ignore[attr-defined]
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        sign_in(page, url, world.tokens["operator"])
        page.goto(f"{url}/investigations/{inv_id}")
        assert page.get_attribute("#facts", "data-live") == "1"
        # Posted after the page rendered: it can only arrive through the live stream
        # (which resumes after data-after, so connecting late loses nothing).
        api.post(
            f"/v1/investigations/{inv_id}/worker/events",
            json={"events": [{"kind": "tool.answered", "data": _evidence("E1")}]},
            headers=worker,
        ).raise_for_status()
        row = page.locator("#timeline tr", has_text="fw-dc-edge-01")
        row.wait_for(timeout=15_000)  # arrived live, inserted by live.js
        shown = row.locator("td").last.text_content()
        assert SCRIPT in shown and IMG in shown  # the tool's text, literally
        assert page.locator("#timeline script, #timeline img").count() == 0
        assert page.evaluate("() => window.__pwned") is None

        # The result is rendered by the server after the page reloads itself.
        finish(api, inv_id, worker, result=_result(HOSTILE, []))  # type: ignore[arg-type]
        page.wait_for_selector("#ev-E1", timeout=15_000)
        findings = page.text_content("#ev-E1 pre.out")
        assert SCRIPT in findings and IMG in findings
        assert SCRIPT in page.text_content("p.summary")
        assert page.locator("main script, main img").count() == 0
        assert page.evaluate("() => window.__pwned") is None
        assert dialogs == []


SHOTS = ("escalations", "reviews", "audit", "costs", "alerts")  # the pages docs/console.md shows

# The check, run in the page: returns one line per problem (empty: passes).
A11Y_CHECK = """() => {
  const problems = [];
  const name = (el) => (el.getAttribute('aria-label') || el.getAttribute('title') || '').trim();
  if (!document.title.trim()) problems.push('no <title>');
  if (!document.documentElement.getAttribute('lang')) problems.push('no lang on <html>');
  const mains = document.querySelectorAll('main, [role=main]');
  if (mains.length !== 1) problems.push(mains.length + ' main landmarks');
  if (!document.querySelector('h1')) problems.push('no h1');
  for (const el of document.querySelectorAll('input, select, textarea')) {
    const type = (el.getAttribute('type') || '').toLowerCase();
    if (['hidden', 'submit', 'button', 'reset'].includes(type)) continue;
    const labelled = (el.labels && el.labels.length > 0 &&
                      Array.from(el.labels).some((l) => l.textContent.trim()))
      || name(el) || el.getAttribute('aria-labelledby');
    if (!labelled) problems.push('unlabelled ' + el.outerHTML.slice(0, 80));
  }
  for (const img of document.querySelectorAll('img')) {
    if (!img.hasAttribute('alt')) problems.push('img without alt ' + img.outerHTML.slice(0, 80));
  }
  const buttons = document.querySelectorAll(
    'button, input[type=submit], input[type=button], [role=button]');
  for (const b of buttons) {
    const text = (b.textContent || '').trim() || (b.value || '').trim() || name(b);
    if (!text) problems.push('button without a name ' + b.outerHTML.slice(0, 80));
  }
  for (const a of document.querySelectorAll('a[href]')) {
    if (!(a.textContent || '').trim() && !name(a)) problems.push('link without text');
  }
  const ids = {};
  for (const el of document.querySelectorAll('[id]')) {
    if (ids[el.id]) problems.push('duplicate id ' + el.id);
    ids[el.id] = true;
  }
  return problems;
}"""


def _something_on_every_page(world: World, api: httpx.Client) -> dict[str, str]:
    """A pending proposal, an escalation, a shadow review item, an alert with its
    route: so every page renders its forms and rows, not just an empty state."""
    agent(world, "fixer", "limited-remediation")
    inv_id, worker = start(api, world, "fixer")  # type: ignore[arg-type]
    propose(api, inv_id, worker, target={"kind": "Change", "name": "CHG-20417"})  # type: ignore[arg-type]
    top = {"rank": 1, "resource": {"kind": "Change", "name": "CHG-20417", "namespace": None},
           "fault": "firewall-rule-change", "category": "change", "confidence": 0.7,
           "explanation": "x", "evidence_ids": ["E1"],
           "remediation_class": "revert-firewall-rule"}  # fmt: skip
    result = _result("firewall", [top])
    finish(api, inv_id, worker, status="escalated", result=result)  # type: ignore[arg-type]
    agent(world, "quiet", "shadow")
    shadow_id, shadow_worker = start(api, world, "quiet")  # type: ignore[arg-type]
    finish(api, shadow_id, shadow_worker, result=result)  # type: ignore[arg-type]
    [item] = api.get("/v1/reviews/shadow", headers=world.auth("viewer")).json()
    route = {"name": "paging", "matchers": ['severity="page"'], "agent": "triage",
             "scenario": "two-am-cascade"}  # fmt: skip
    api.post("/v1/alert-routes", json=route, headers=world.auth("lead")).raise_for_status()
    alert = {"labels": {"alertname": "CheckoutErrors", "severity": "page"},
             "annotations": {"summary": "checkout 5xx"}}  # fmt: skip
    api.post(
        "/v1/alerts", json={"alerts": [alert]}, headers=world.auth("sender")
    ).raise_for_status()
    return {"investigation": inv_id, "review": str(item["id"])}


def test_every_page_passes_the_basic_accessibility_check(
    served: tuple[World, httpx.Client, str], tmp_path: Path
) -> None:
    world, api, url = served
    ids = _something_on_every_page(world, api)
    paths = ["/investigations", f"/investigations/{ids['investigation']}", "/approvals",
             "/agents", "/escalations", "/reviews", f"/reviews/{ids['review']}", "/audit",
             f"/audit?investigation={ids['investigation']}", "/costs", "/alerts"]  # fmt: skip
    found: dict[str, list[str]] = {}
    axe: dict[str, list[str]] = {}
    source = axe_source()
    shots = os.environ.get("NIGHTSHIFT_SCREENSHOT_DIR", "")
    with browser_context(tmp_path / "profile") as ctx:
        page: Any = ctx.new_page()  # type: ignore[attr-defined]
        page.goto(f"{url}/login")
        found["/login"] = page.evaluate(A11Y_CHECK)
        axe["/login"] = serious_violations(page, source)
        sign_in(page, url, world.tokens["admin"])  # admin: every form and button shows
        for path in paths:
            resp = page.goto(f"{url}{path}")
            assert resp.status == 200, path
            found[path] = page.evaluate(A11Y_CHECK)
            page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")
            axe[path] = serious_violations(page, source)  # folded text is checked too
            if shots and path.strip("/") in SHOTS:  # scripts/console-screenshots
                page.screenshot(path=str(Path(shots) / f"console-{path.strip('/')}.png"))
        # With the kill switch engaged its banner is on every page.
        engaged = api.post("/v1/kill-switch", json={"reason": "a11y"}, headers=world.auth("lead"))
        engaged.raise_for_status()
        page.goto(f"{url}/investigations")
        assert page.locator(".kill").count() == 1
        axe["/investigations (kill switch engaged)"] = serious_violations(page, source)
        # Both checks catch what they claim to: an unlabelled input and a nameless button.
        page.evaluate(
            "() => { const m = document.querySelector('main');"
            " m.appendChild(document.createElement('input'));"
            " m.appendChild(document.createElement('button')); }"
        )
        planted = page.evaluate(A11Y_CHECK)
        planted_axe = serious_violations(page, source)
    assert {p: v for p, v in found.items() if v} == {}
    assert {p: v for p, v in axe.items() if v} == {}
    assert any("unlabelled" in p for p in planted)
    assert any("button without a name" in p for p in planted)
    assert any(" label:" in v for v in planted_axe) and any("button-name" in v for v in planted_axe)


# Numbers every control a person can use (visible links, buttons, fields, summaries).
MARK_CONTROLS = """() => {
  const sel = 'a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]';
  const all = Array.from(document.querySelectorAll(sel)).filter(
    (el) => el.getClientRects().length > 0 && !el.disabled && el.tabIndex >= 0);
  all.forEach((el, i) => { el.dataset.k = String(i); });
  return all.length;
}"""
FOCUSED = "() => document.activeElement && document.activeElement.dataset.k || null"


def _tab_until(page: Any, test: str, limit: int = 300) -> None:
    """Presses Tab until ``test`` (JS over the focused element ``el``) holds."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"() => {{ const el = document.activeElement; return !!({test}); }}"):
            return
    raise AssertionError(f"Tab never reached {test}")


def test_every_control_is_reached_by_tab_and_the_forms_work_by_keyboard(
    served: tuple[World, httpx.Client, str], tmp_path: Path
) -> None:
    world, api, url = served
    ids = _something_on_every_page(world, api)
    [pending] = api.get("/v1/approvals", headers=world.auth("viewer")).json()
    with browser_context(tmp_path / "profile") as ctx:
        page: Any = ctx.new_page()  # type: ignore[attr-defined]
        sign_in(page, url, world.tokens["admin"])
        # The pages with forms: the safety forms, and judging a diagnosis.
        for path in ("/agents", "/approvals", f"/investigations/{ids['investigation']}"):
            page.goto(f"{url}{path}")
            # Folded sections unfold from their summary (itself a control); unfolded,
            # their controls must be reachable too.
            page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")
            total = page.evaluate(MARK_CONTROLS)
            reached: set[str] = set()
            for _ in range(total + 5):  # one full round, and a little more
                page.keyboard.press("Tab")
                k = page.evaluate(FOCUSED)
                if k is not None:
                    reached.add(k)
            missed = page.evaluate(
                "(seen) => Array.from(document.querySelectorAll('[data-k]'))"
                ".filter((el) => !seen.includes(el.dataset.k)).map((el) => el.outerHTML)",
                sorted(reached),
            )
            assert total > 5 and missed == [], path

        # The kill switch: engaged and released with the keyboard alone.
        page.goto(f"{url}/agents")
        _tab_until(page, "el.id === 'kr'")
        page.keyboard.type("keyboard drill")
        _tab_until(page, "el.name === 'engage' && el.value === 'yes'", limit=3)
        page.keyboard.press("Enter")
        page.wait_for_selector(".kill")
        assert api.get("/v1/kill-switch", headers=world.auth("viewer")).json()["global_engaged"]
        _tab_until(page, "el.id === 'kr'")
        page.keyboard.type("drill over")
        _tab_until(page, "el.name === 'engage' && el.value === 'no'", limit=3)
        page.keyboard.press("Enter")
        page.wait_for_selector(".flash.ok")
        assert page.locator(".kill").count() == 0
        assert not api.get("/v1/kill-switch", headers=world.auth("viewer")).json()["global_engaged"]

        # Approving a proposal: the reason typed, the button pressed with Enter.
        page.goto(f"{url}/approvals")
        _tab_until(page, f"el.id === 'ar-{pending['id']}'")
        page.keyboard.type("approved from the keyboard")
        _tab_until(page, "el.classList.contains('approve')", limit=6)
        page.keyboard.press("Enter")
        page.wait_for_selector(".flash.ok")
    [decided] = api.get(
        "/v1/approvals", params={"status": "any"}, headers=world.auth("viewer")
    ).json()
    assert decided["decided_by"] == "admin"
    assert decided["decision_reason"] == "approved from the keyboard"


def test_evidence_past_the_inline_budget_loads_when_unfolded_and_stays_inert(
    served: tuple[World, httpx.Client, str], tmp_path: Path
) -> None:
    from nightshift.web.views import INLINE_EVIDENCE_CHARS

    world, api, url = served
    agent(world, "fixer", "limited-remediation")
    inv_id, worker = start(api, world, "fixer")  # type: ignore[arg-type]
    filler = [{**_evidence(f"F{i}"), "findings": ["y" * 4096]}
              for i in range(INLINE_EVIDENCE_CHARS // 4096 + 1)]  # fmt: skip
    late = {**_evidence("LATE"), "findings": [SCRIPT, IMG]}
    result = {**_result("big", []), "evidence": [*filler, late]}
    finish(api, inv_id, worker, result=result)  # type: ignore[arg-type]
    with browser_context(tmp_path / "profile") as ctx:
        page: Any = ctx.new_page()  # type: ignore[attr-defined]
        sign_in(page, url, world.tokens["viewer"])
        page.goto(f"{url}/investigations/{inv_id}")
        row = page.locator("#ev-LATE details[data-src]")
        assert SCRIPT not in (row.locator("pre").text_content() or "")  # not in the page
        row.locator("summary").focus()
        page.keyboard.press("Enter")  # unfolded from the keyboard
        page.wait_for_function(
            "() => document.querySelector('#ev-LATE pre').textContent.includes('__pwned')"
        )
        text = row.locator("pre").text_content()
        assert SCRIPT in text and IMG in text
        assert page.locator("#ev-LATE pre script, #ev-LATE pre img").count() == 0
        assert page.evaluate("() => window.__pwned") is None
