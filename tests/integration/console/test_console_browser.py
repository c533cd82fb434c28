"""The console in a real browser against a real `nightshift up` on the 2 AM
scenario: an operator signs in, watches the investigation live, opens the
hypothesis tree, approves the proposal; the API confirms the decision.

Screenshots land in NIGHTSHIFT_SCREENSHOT_DIR when set (docs/img for docs/console.md).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from nightshift.bootstrap import build_container
from nightshift.domain.vocabulary import PrincipalKind, Role
from nightshift.settings import Settings
from tests.integration.console.browser import browser_context, require_chromium, sign_in
from tests.support.server import TERMINAL, ControlPlane
from tests.unit.workflow.flow import BOUNDARIES

pytestmark = pytest.mark.slow


@pytest.fixture
def plane(tmp_path: Path) -> Iterator[tuple[ControlPlane, dict[str, str]]]:
    require_chromium()  # before starting anything
    p = ControlPlane(tmp_path / "cp", f"sqlite:///{tmp_path}/ns.db")
    p.data_dir.mkdir()
    container = build_container(Settings(data_dir=p.data_dir, database_url=p.database_url))
    tokens = {}
    try:
        for name, role in (
            ("lead", Role.OPS_LEAD),
            ("operator", Role.OPERATOR),
            ("viewer", Role.VIEWER),
        ):
            container.principals.create_user(
                name, kind=PrincipalKind.HUMAN, roles=frozenset({role}), contact=f"{name}@ex.org"
            )
            tokens[name] = container.principals.create_token(name)
        container.agents.register(
            "night",
            owner="lead",
            authority_class="supervised",
            trust_phase="limited-remediation",
            boundaries=BOUNDARIES,
        )
    finally:
        container.db.dispose()
    p.start()
    yield p, tokens
    p.stop()


def _shots(tmp_path: Path) -> Path:
    out = Path(os.environ.get("NIGHTSHIFT_SCREENSHOT_DIR") or tmp_path / "shots")
    out.mkdir(parents=True, exist_ok=True)
    return out


def test_an_operator_follows_the_2am_investigation_and_approves_its_fix(
    plane: tuple[ControlPlane, dict[str, str]], tmp_path: Path
) -> None:
    cp, tokens = plane
    auth = {"Authorization": f"Bearer {tokens['operator']}"}
    with httpx.Client(base_url=cp.url, headers=auth, timeout=30) as api:
        _follow_and_approve(cp, api, tokens, _shots(tmp_path), tmp_path)


def _follow_and_approve(
    cp: ControlPlane, api: httpx.Client, tokens: dict[str, str], shots: Path, tmp_path: Path
) -> None:
    with browser_context(tmp_path / "profile") as ctx:
        page: Any = ctx.new_page()  # type: ignore[attr-defined]
        violations: list[str] = []
        page.on(
            "console",
            lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
        )
        page.goto(f"{cp.url}/investigations")
        assert page.url.endswith("/login")
        sign_in(page, cp.url, tokens["operator"])

        inv = cp.submit(api, agent="night", scenario="two-am-cascade", title="2 AM pager storm")
        page.goto(f"{cp.url}/investigations/{inv['id']}")
        opened_live = page.get_attribute("#facts", "data-live") == "1"
        # The page follows the stream, then reloads itself with the diagnosis.
        page.wait_for_selector("#tree li", timeout=120_000)
        assert page.text_content("#inv-status") == "succeeded"
        if opened_live:  # the timeline grew in the browser, not by a manual reload
            assert page.locator("#timeline tr").count() > 10
        assert "root-cause" in page.text_content("ol.chain")
        assert page.locator("#tree ul li").count() > 0  # children under parents
        closed = page.locator("#tree details:not([open])").first.element_handle()
        assert closed is not None  # rejected hypotheses start folded
        closed.query_selector("summary").click()
        assert closed.get_attribute("open") is not None
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(shots / "console-investigation.png"), full_page=False)

        page.fill("#vr", "the firewall change, as shown")
        page.click("form[action$='/verdict'] button")
        page.wait_for_selector(".flash.ok")
        page.goto(f"{cp.url}/approvals")
        card = page.locator("article.card").first
        assert "revert-firewall-rule" in card.text_content()
        card.locator("input[name=reason]").first.fill("CHG-20417 removed the allow rule")
        page.screenshot(path=str(shots / "console-approvals.png"), full_page=False)
        card.locator("button.approve").click()
        page.wait_for_selector(".flash.ok")
        _viewer_and_lead(page, cp, tokens, shots)

    [verdict] = api.get(f"/v1/investigations/{inv['id']}/verdicts").json()
    assert (verdict["kind"], verdict["author"]) == ("accept", "operator")
    assert api.get("/v1/kill-switch").json()["global_engaged"] is False
    [proposal] = api.get("/v1/approvals", params={"status": "any"}).json()
    assert proposal["decided_by"] == "operator"
    assert proposal["status"] != "pending_approval"
    assert proposal["decision_reason"] == "CHG-20417 removed the allow rule"
    assert violations == []
    done = api.get(f"/v1/investigations/{inv['id']}").json()
    assert done["status"] in TERMINAL


def _sign_in_as(page: Any, cp: ControlPlane, token: str) -> None:
    page.click("text=Sign out")
    page.wait_for_url(f"{cp.url}/login")
    sign_in(page, cp.url, token)


def _viewer_and_lead(page: Any, cp: ControlPlane, tokens: dict[str, str], shots: Path) -> None:
    """A viewer gets no buttons and a forged post is refused; an ops lead pulls
    and releases the kill switch, whose banner shows on every page meanwhile."""
    _sign_in_as(page, cp, tokens["viewer"])
    page.goto(f"{cp.url}/approvals?status=any")
    assert page.locator("article.card").count() == 1
    assert page.locator("button.approve, button.reject").count() == 0
    csrf = page.get_attribute("input[name=csrf]", "value")
    pid = page.get_attribute("article.card", "id").removeprefix("p-")
    forged = page.request.post(
        f"{cp.url}/approvals/{pid}/rollback", form={"csrf": csrf, "reason": "forged"}
    )
    assert forged.status == 403
    _sign_in_as(page, cp, tokens["lead"])
    page.goto(f"{cp.url}/agents")
    page.fill("#kr", "pager storm: stop everything")
    page.click("button[value=yes]")
    page.wait_for_selector(".kill")
    page.goto(f"{cp.url}/investigations")
    assert "KILL SWITCH ENGAGED" in page.text_content(".kill")
    page.goto(f"{cp.url}/agents")
    page.screenshot(path=str(shots / "console-agents.png"))
    page.fill("#kr", "storm over")
    page.click("button[value=no]")
    page.wait_for_selector(".flash.ok")
    assert page.locator(".kill").count() == 0
