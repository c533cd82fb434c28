"""The Anthropic backend, through the real SDK over real HTTP."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from nightshift.agent.reasoners.llm.answer import AnswerInvalid
from nightshift.agent.reasoners.llm.provider import RetryableModelError
from nightshift.model_backends.anthropic_backend import AnthropicChatModel
from tests.support.fake_llm_server import (
    FakeLLMServer,
    anthropic_reply,
    anthropic_stream,
    error_reply,
    rate_limited,
)
from tests.unit.llm.calls import ASSESS_OK, FAULTS, GET_PODS, REQUEST, TOOLS, caller
from tests.unit.llm.conftest import Closer

ASSESS = json.loads(ASSESS_OK)


@pytest.fixture
def backend(closing: Closer) -> Callable[..., AnthropicChatModel]:
    def make(server: FakeLLMServer, **kw: object) -> AnthropicChatModel:
        model = AnthropicChatModel(
            model="claude-test",
            api_key="sk-ant-local-test",
            base_url=server.url,
            headers={"X-Tenant": "nightshift"},
            **kw,  # type: ignore[arg-type]
        )
        return closing(model)  # type: ignore[no-any-return]

    return make


async def test_tool_use_blocks_become_tool_calls_and_cache_reads_are_counted_as_input(
    llm_server: FakeLLMServer, backend: Callable[..., AnthropicChatModel]
) -> None:
    llm_server.push(
        anthropic_reply(
            [("kubectl_get", json.loads(GET_PODS)), ("assess", ASSESS)],
            input_tokens=400,
            output_tokens=120,
            cache_read=1600,
        )
    )
    ask, records, _ = caller(backend(llm_server))
    answer = await ask.ask(REQUEST, TOOLS, FAULTS)
    assert [c.name for c in answer.calls] == ["kubectl_get"]
    (record,) = records
    assert (record.input_tokens, record.cached_tokens, record.output_tokens) == (2000, 1600, 120)
    assert record.cost_usd == pytest.approx((400 * 3 + 1600 * 0.3 + 120 * 15) / 1e6)


async def test_the_stable_prefix_is_marked_for_prompt_caching(
    llm_server: FakeLLMServer, backend: Callable[..., AnthropicChatModel]
) -> None:
    llm_server.push(anthropic_reply([("assess", ASSESS)]))
    ask, _, _ = caller(backend(llm_server))
    await ask.ask(REQUEST, TOOLS, FAULTS)
    (sent,) = llm_server.received
    assert sent.path == "/v1/messages"
    # older SDKs send x-api-key, current ones a bearer token: either carries the key
    sent_key = sent.headers.get("x-api-key") or sent.headers.get("authorization", "")
    assert sent_key.endswith("sk-ant-local-test")
    assert sent.headers["x-tenant"] == "nightshift"
    assert sent.body["system"][-1]["cache_control"] == {"type": "ephemeral"}
    assert sent.body["tool_choice"] == {"type": "any"}
    assert sent.body["max_tokens"] == 300
    assert {t["name"] for t in sent.body["tools"]} >= {"assess", "db_stats"}


async def test_overloaded_and_rate_limited_answers_are_retried(
    llm_server: FakeLLMServer, backend: Callable[..., AnthropicChatModel]
) -> None:
    llm_server.push(
        error_reply(529, "overloaded"), rate_limited("2"), anthropic_reply([("assess", ASSESS)])
    )
    ask, records, sleeps = caller(backend(llm_server))
    await ask.ask(REQUEST, TOOLS, FAULTS)
    assert sleeps.delays == [0.5, 2.0]
    assert [r.status for r in records] == ["error", "error", "ok"]


async def test_a_schema_violation_is_sent_back_to_the_model(
    llm_server: FakeLLMServer, backend: Callable[..., AnthropicChatModel]
) -> None:
    wrong = {"hypotheses": [{"resource": "shop/pod/x", "fault": "gremlins", "confidence": 2}]}
    llm_server.push(anthropic_reply([("assess", wrong)]), anthropic_reply([("assess", ASSESS)]))
    ask, _, _ = caller(backend(llm_server))
    await ask.ask(REQUEST, TOOLS, FAULTS)
    retry = llm_server.received[1].body["messages"][0]["content"]
    assert "must be <= 1" in retry and "missing required parameter 'done'" in retry


async def test_a_model_that_never_calls_assess_is_rejected(
    llm_server: FakeLLMServer, backend: Callable[..., AnthropicChatModel]
) -> None:
    for _ in range(3):
        llm_server.push(anthropic_reply(text="I think it is DNS."))
    ask, _, _ = caller(backend(llm_server))
    with pytest.raises(AnswerInvalid, match="call assess exactly once"):
        await ask.ask(REQUEST, TOOLS, FAULTS)


async def test_streaming_assembles_partial_json_and_usage(
    llm_server: FakeLLMServer, backend: Callable[..., AnthropicChatModel]
) -> None:
    llm_server.push(
        anthropic_stream(
            [("kubectl_get", json.loads(GET_PODS)), ("assess", ASSESS)],
            input_tokens=500,
            output_tokens=150,
            cache_read=1500,
        )
    )
    ask, records, _ = caller(backend(llm_server, stream=True))
    answer = await ask.ask(REQUEST, TOOLS, FAULTS)
    assert [dict(c.params) for c in answer.calls] == [{"kind": "pods", "namespace": "shop"}]
    assert llm_server.received[0].body["stream"] is True
    assert (records[0].input_tokens, records[0].output_tokens) == (2000, 150)


async def test_server_errors_exhaust_into_a_retryable_error(
    llm_server: FakeLLMServer, backend: Callable[..., AnthropicChatModel]
) -> None:
    llm_server.push(*(error_reply(503) for _ in range(4)))
    ask, records, _ = caller(backend(llm_server))
    with pytest.raises(RetryableModelError):
        await ask.ask(REQUEST, TOOLS, FAULTS)
    assert len(records) == 4
