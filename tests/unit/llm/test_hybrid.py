"""When the hybrid reasoner consults the model, and what happens when it cannot."""

from __future__ import annotations

import json

from nightshift.agent.events import AgentEvent, EventKind
from nightshift.agent.reasoners.llm.config import LLMConfig
from nightshift.agent.reasoners.llm.fake import AnalystModel, ScriptedChatModel
from nightshift.agent.reasoners.llm.provider import (
    ChatRequest,
    ChatResponse,
    ModelError,
    ModelToolCall,
    Usage,
)
from nightshift.agent.reasoners.llm.reasoner import LLMReasoner
from nightshift.agent.reasoners.llm.stream import investigate_reasoned
from nightshift.domain.diagnosis import Outcome
from tests.unit.llm.calls import PRICES
from tests.unit.llm.worlds import world


def kinds(events: list[AgentEvent]) -> list[EventKind]:
    return [e.kind for e in events]


async def test_a_confident_single_domain_run_never_calls_the_model() -> None:
    request, toolset, truth = world("etl-workers-missing")
    model = AnalystModel()
    diagnosis, events = await investigate_reasoned(request, toolset, LLMReasoner(model))
    assert model.requests == []
    assert EventKind.LLM_CALL not in kinds(events)
    assert diagnosis.top is not None and diagnosis.top.fault == truth
    assert diagnosis.stats["llm"]["calls"] == 0


async def test_a_multi_domain_run_consults_the_model_with_the_reason_recorded() -> None:
    request, toolset, truth = world("two-am-cascade")
    model = AnalystModel(model="gpt-test")
    reasoner = LLMReasoner(model, prices=PRICES)
    diagnosis, events = await investigate_reasoned(request, toolset, reasoner)
    consulted = [e for e in events if e.kind is EventKind.LLM_CONSULTED]
    assert consulted and consulted[0].data["reason"] == "multi-domain"
    assert diagnosis.top is not None and diagnosis.top.fault == truth
    assert diagnosis.stats["llm"]["calls"] == len(model.requests) > 0
    assert diagnosis.stats["llm"]["cost_usd"] > 0


async def test_asking_for_the_model_consults_it_even_when_the_analyzers_are_sure() -> None:
    request, toolset, _ = world("etl-workers-missing")
    model = AnalystModel()
    cfg = LLMConfig(always=True, consult_after_cycles=1)
    _, events = await investigate_reasoned(request, toolset, LLMReasoner(model, cfg))
    consulted = [e for e in events if e.kind is EventKind.LLM_CONSULTED]
    assert [e.data["reason"] for e in consulted] == ["asked"]
    assert len(model.requests) >= 1


async def test_an_exhausted_token_budget_ends_the_llm_path_with_an_escalation() -> None:
    request, toolset, _ = world("two-am-cascade")
    model = AnalystModel()
    reasoner = LLMReasoner(model, LLMConfig(token_budget=9_000))
    diagnosis, events = await investigate_reasoned(request, toolset, reasoner)
    assert diagnosis.outcome is Outcome.BUDGET_EXHAUSTED and diagnosis.escalate
    exhausted = [e for e in events if e.kind is EventKind.BUDGET_EXHAUSTED]
    assert exhausted and exhausted[0].data["budget"] == "llm_tokens"
    stats = diagnosis.stats["llm"]
    assert stats["tokens_spent"] <= stats["token_budget"] == 9_000  # never grown
    assert events[-1].kind is EventKind.RESULT and events[-1].data["escalate"] is True
    assert diagnosis.root_causes  # the evidence trail and best guess go with it


async def test_an_unavailable_model_leaves_the_run_to_the_offline_reasoner() -> None:
    request, toolset, truth = world("two-am-cascade")

    def broken(_: ChatRequest) -> ChatResponse:
        raise ModelError("HTTP 401: invalid api key", status=401)

    reasoner = LLMReasoner(ScriptedChatModel(broken))
    diagnosis, events = await investigate_reasoned(request, toolset, reasoner)
    assert diagnosis.top is not None and diagnosis.top.fault == truth
    assert not diagnosis.escalate
    warnings = [e.data["message"] for e in events if e.kind is EventKind.LOG]
    assert any("model is unavailable" in w for w in warnings)
    assert diagnosis.stats["llm"]["errors"] == 1


async def test_in_llm_mode_the_model_plans_the_first_cycle() -> None:
    request, toolset, _ = world("two-am-cascade")
    first = ChatResponse(
        "",
        (
            ModelToolCall("c1", "recent_changes", json.dumps({"since_minutes": 120})),
            ModelToolCall("c2", "assess", json.dumps({"hypotheses": [], "done": False})),
        ),
        Usage(900, 40),
        "fake",
    )
    analyst = AnalystModel()

    def respond(req: ChatRequest) -> ChatResponse:
        return first if len(scripted.requests) == 1 else analyst.answer(req)

    scripted = ScriptedChatModel(respond)
    _, events = await investigate_reasoned(
        request, toolset, LLMReasoner(scripted, LLMConfig(mode="llm"))
    )
    requested = [e for e in events if e.kind is EventKind.TOOL_REQUESTED]
    assert requested[0].data["tool"] == "recent_changes"
    assert requested[0].data["params"] == {"since_minutes": 120}


async def test_prompts_stay_compact_and_every_outside_text_is_fenced() -> None:
    request, toolset, _ = world("two-am-cascade")
    model = AnalystModel()
    await investigate_reasoned(request, toolset, LLMReasoner(model))
    for sent in model.requests:
        assert "UNTRUSTED DATA" in sent.system
        assert request.question.splitlines()[0] not in sent.user.split("<<<DATA id=request")[0]
        assert len(sent.user) < 16_000  # state, not transcripts: bounded per call
    assert len({r.system for r in model.requests}) == 1  # a stable, cacheable prefix


async def test_a_reasoner_without_events_of_its_own_streams_unchanged() -> None:
    from nightshift.agent.investigation import stream_investigation
    from nightshift.agent.reasoners.llm.stream import stream_reasoned_investigation
    from nightshift.domain.diagnosis import Diagnosis

    request, toolset, _ = world("etl-workers-missing")
    plain = [i async for i in stream_investigation(request, toolset)]
    _, toolset = world("etl-workers-missing")[:2]
    wrapped = [i async for i in stream_reasoned_investigation(request, toolset)]
    assert [type(i) for i in wrapped] == [type(i) for i in plain]
    assert isinstance(wrapped[-1], Diagnosis) and wrapped[-1].top == plain[-1].top  # type: ignore[union-attr]
