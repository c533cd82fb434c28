"""The worker log carries agent-level lines: cycle, focus, calls, what changed."""

from __future__ import annotations

import json
import logging

import pytest

from nightshift.agent.events import AgentEvent
from nightshift.agent.investigation import stream_investigation
from nightshift.agent.request import InvestigationRequest
from nightshift.domain.vocabulary import Tier
from nightshift.observability.jsonlog import JsonLineFormatter
from nightshift.observability.redaction import Redactor
from nightshift.runtime.agent_log import AgentLog


async def test_one_agent_line_per_cycle_with_focus_calls_and_changes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    scenarios = pytest.importorskip("nightshift.scenarios")
    world = scenarios.SimulatedWorld("two-am-cascade")
    trigger = world.scenario.trigger
    request = InvestigationRequest(trigger.question or str(trigger.summary), tier=Tier.MULTI_DOMAIN)
    agent_log = AgentLog(logging.getLogger("nightshift.agent"))
    cycles = 0
    with caplog.at_level(logging.INFO, logger="nightshift.agent"):
        async for item in stream_investigation(request, world):
            if isinstance(item, AgentEvent):
                agent_log.observe(item)
            else:
                cycles = item.cycles
    lines = [r for r in caplog.records if r.name == "nightshift.agent"]
    per_cycle = [r for r in lines if r.getMessage().startswith("cycle ")]
    assert len(per_cycle) == cycles
    first = per_cycle[0]
    assert "focus " in first.getMessage() and "list_alerts(ok)" in first.getMessage()
    fields = first.__dict__["agent"]
    assert fields["cycle"] == 1 and fields["calls"] and fields["changed"]["new"] > 0
    assert lines[0].getMessage().startswith("started:")
    assert any(r.getMessage().startswith("confirmed ") for r in lines)
    assert lines[-1].getMessage().startswith("result: diagnosed")
    # the JSON line keeps the structured fields next to the message
    entry = json.loads(JsonLineFormatter("inv-1", Redactor()).format(first))
    assert entry["agent"]["cycle"] == 1 and entry["investigation"] == "inv-1"
