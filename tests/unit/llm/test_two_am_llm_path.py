"""Done-when: the 2 AM cascade runs through the LLM path end to end, over real
HTTP with the real SDKs, with tokens and cost recorded on the investigation."""

from __future__ import annotations

from typing import Any

import pytest

from nightshift.agent.events import EventKind
from nightshift.agent.reasoners.llm.fake import AnalystModel
from nightshift.agent.reasoners.llm.stream import investigate_reasoned
from nightshift.model_backends.factory import build_reasoner
from tests.support.fake_llm_server import FakeLLMServer, chat_responder, rate_limited
from tests.unit.llm.calls import Sleeps
from tests.unit.llm.conftest import Closer
from tests.unit.llm.worlds import world

PRICES = {
    "gpt-test": {"input": 2.5, "output": 10.0, "cached_input": 1.25},
    "claude-test": {"input": 3.0, "output": 15.0, "cached_input": 0.3, "cache_write": 3.75},
}


def config(provider: str, server: FakeLLMServer, **extra: Any) -> dict[str, Any]:
    return {
        "provider": provider,
        "model": "gpt-test" if provider == "openai" else "claude-test",
        "base_url": server.openai_base if provider == "openai" else server.url,
        "token_budget": {"single-domain": 12_000, "multi-domain": 40_000},
        "mode": "llm",
        "prices": PRICES,
        **extra,
    }


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
async def test_two_am_cascade_runs_through_the_llm_path_with_tokens_and_cost_recorded(
    provider: str, llm_server: FakeLLMServer, closing: Closer
) -> None:
    request, toolset, truth = world("two-am-cascade")
    analyst = AnalystModel(model=f"{provider}-analyst")
    llm_server.responder = chat_responder(analyst.answer)
    llm_server.push(rate_limited("1"))  # the first attempt is throttled: retried, accounted
    sleeps = Sleeps()
    reasoner = build_reasoner(
        config(provider, llm_server), {"api_key": "sk-test"}, tier=request.tier, sleep=sleeps
    )
    closing(reasoner.model)
    diagnosis, events = await investigate_reasoned(request, toolset, reasoner)

    assert diagnosis.top is not None and diagnosis.top.fault == truth
    calls = [e.data for e in events if e.kind is EventKind.LLM_CALL]
    ok = [c for c in calls if c["status"] == "ok"]
    assert len(ok) == len(analyst.requests) >= 2
    assert calls[0]["status"] == "error" and sleeps.delays == [1.0]
    assert all(c["input_tokens"] > 0 and c["output_tokens"] > 0 for c in ok)
    assert all(c["cost_usd"] > 0 and c["latency_ms"] > 0 for c in ok)
    assert sum(c["cached_tokens"] for c in ok) > 0  # the stable prefix is served from cache
    bill = diagnosis.stats["llm"]
    assert bill["input_tokens"] == sum(c["input_tokens"] for c in calls)
    assert bill["cost_usd"] == pytest.approx(sum(c["cost_usd"] for c in ok), abs=1e-5)
    assert bill["tokens_spent"] <= 40_000 and bill["token_budget"] == 40_000
    assert bill["models"] == ["gpt-test" if provider == "openai" else "claude-test"]
    result = next(e for e in events if e.kind is EventKind.RESULT)
    assert result.data["stats"]["llm"]["calls"] == len(calls)
    first_plan = next(e for e in events if e.kind is EventKind.TOOL_REQUESTED)
    assert first_plan.data["reason"].startswith("model")


async def test_the_stream_keeps_llm_events_in_order_around_the_loops_events(
    llm_server: FakeLLMServer, closing: Closer
) -> None:
    request, toolset, _ = world("two-am-cascade")
    llm_server.responder = chat_responder(AnalystModel().answer)
    reasoner = build_reasoner(config("openai", llm_server, mode="hybrid"), {"api_key": "k"})
    closing(reasoner.model)
    _, events = await investigate_reasoned(request, toolset, reasoner)
    names: list[str] = [e.kind.value for e in events]
    assert names[0] == "investigation.started" and names[-1] == "result"
    assert names.index("llm.consulted") < names.index("llm.call")
    assert names.count("result") == 1
