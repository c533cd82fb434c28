"""What `nightshift investigate --follow` and `approvals approve` print."""

from __future__ import annotations

import re
from typing import Any

import pytest
from rich.console import Console

from nightshift.agent.investigation import stream_investigation
from nightshift.agent.request import InvestigationRequest
from nightshift.agent.tools.protocol import ToolResult, ToolStatus
from nightshift.agent.tools.static import StaticToolset
from nightshift.cli import workflow
from nightshift.cli.event_lines import LEGEND, EventPrinter
from nightshift.domain.diagnosis import Diagnosis
from nightshift.domain.vocabulary import Tier


async def _printed(request: InvestigationRequest, toolset: Any) -> tuple[str, Diagnosis, int]:
    console = Console(record=True, width=220, color_system=None)
    printer = EventPrinter(console)
    events = 0
    diagnosis: Diagnosis | None = None
    async for item in stream_investigation(request, toolset):
        if isinstance(item, Diagnosis):
            diagnosis = item
            continue
        events += 1
        printer(item.kind.value, item.to_dict())
    assert diagnosis is not None
    return console.export_text(), diagnosis, events


async def test_follow_prints_a_compact_tree_with_a_legend_and_the_causal_chain() -> None:
    scenarios = pytest.importorskip("nightshift.scenarios")
    world = scenarios.SimulatedWorld("two-am-cascade")
    trigger = world.scenario.trigger
    request = InvestigationRequest(trigger.question or str(trigger.summary), tier=Tier.MULTI_DOMAIN)
    text, d, events = await _printed(request, world)
    assert LEGEND in text
    assert len(re.findall(r"^├─ e\d+ ", text, re.M)) == d.tool_calls  # one line per answer
    assert len(re.findall(r"^└─ cycle \d+: ", text, re.M)) == d.cycles
    assert len(text.splitlines()) < events  # hypothesis events are folded into their answer
    assert "causal chain" in text and "Change/CHG-20417" in text


async def test_follow_shows_the_tools_own_message_when_it_had_nothing() -> None:
    said = "no changes recorded in the last 60 minutes"
    toolset = StaticToolset(
        [("recent_changes", {}, ToolResult(ToolStatus.NO_DATA, said))], tools=["recent_changes"]
    )
    text, _d, _n = await _printed(InvestigationRequest("checkout is slow"), toolset)
    assert f"[no_data] no_data: {said}" in text
    assert "empty answer" not in text


def _proposal(status: str, result: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "p1",
        "status": status,
        "action": "revert-firewall-rule",
        "target": {"kind": "Change", "name": "CHG-20417"},
        "agent": "night",
        "phase": "limited-remediation",
        "confidence": 0.9,
        "decision": {"reason": "approval_required", "message": "-"},
        "intent": {},
        "result": result,
    }


def _shown(p: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> str:
    console = Console(record=True, width=200, color_system=None)
    monkeypatch.setattr(workflow, "out", console)
    workflow._print_proposal(p)
    return console.export_text()


def test_approve_never_says_executed_after_a_failed_dry_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    failed = _proposal(
        "failed",
        {
            "dry_run": {"ok": False, "message": "error: no change or firewall rule with id 'x'"},
            "symptoms_after": True,
            "verified": False,
        },
    )
    text = _shown(failed, monkeypatch)
    assert "not executed: dry-run failed: error: no change or firewall rule" in text
    assert "  executed:" not in text


def test_approve_says_executed_and_verified_when_it_ran(monkeypatch: pytest.MonkeyPatch) -> None:
    done = _proposal(
        "executed",
        {
            "dry_run": {"ok": True, "message": "would revert"},
            "execute": {"ok": True, "message": "reverted CHG-20417"},
            "verified": True,
        },
    )
    assert "  executed: reverted CHG-20417 (symptom gone)" in _shown(done, monkeypatch)
