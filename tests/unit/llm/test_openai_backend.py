"""The OpenAI-compatible backend, through the real SDK over real HTTP."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from nightshift.agent.reasoners.llm.accounting import TokenBudgetExhausted
from nightshift.agent.reasoners.llm.answer import AnswerInvalid
from nightshift.agent.reasoners.llm.calling import RetryPolicy
from nightshift.agent.reasoners.llm.provider import ModelError, RetryableModelError
from nightshift.model_backends.openai_backend import OpenAIChatModel
from tests.support.fake_llm_server import (
    FakeLLMServer,
    error_reply,
    hang,
    openai_reply,
    openai_stream,
    rate_limited,
)
from tests.unit.llm.calls import ASSESS_OK, FAULTS, GET_PODS, REQUEST, TOOLS, caller
from tests.unit.llm.conftest import Closer


@pytest.fixture
def backend(closing: Closer) -> Callable[..., OpenAIChatModel]:
    def make(server: FakeLLMServer, **kw: object) -> OpenAIChatModel:
        return closing(_model(server, **kw))  # type: ignore[no-any-return]

    return make


def _model(server: FakeLLMServer, **kw: object) -> OpenAIChatModel:
    return OpenAIChatModel(
        model="gpt-test",
        api_key="sk-local-test",
        base_url=server.openai_base,
        headers={"X-Tenant": "nightshift"},
        **kw,  # type: ignore[arg-type]
    )


async def test_native_tool_calls_become_validated_tool_calls_and_updates(
    llm_server: FakeLLMServer, backend: Callable[..., OpenAIChatModel]
) -> None:
    llm_server.push(
        openai_reply(
            [("kubectl_get", GET_PODS), ("assess", ASSESS_OK)],
            prompt_tokens=2000,
            completion_tokens=100,
            cached_tokens=1500,
        )
    )
    ask, records, _ = caller(backend(llm_server))
    answer = await ask.ask(REQUEST, TOOLS, FAULTS)
    assert [(c.name, dict(c.params)) for c in answer.calls] == [
        ("kubectl_get", {"kind": "pods", "namespace": "shop"})
    ]
    assert answer.updates[0].fault == "firewall-rule-change"
    assert answer.updates[0].resource.namespace == "shop"
    (record,) = records
    assert (record.input_tokens, record.output_tokens, record.cached_tokens) == (2000, 100, 1500)
    # 500 fresh x $2 + 1500 cached x $0.5 + 100 out x $8, per million tokens
    assert record.cost_usd == pytest.approx((500 * 2 + 1500 * 0.5 + 100 * 8) / 1e6)
    assert record.status == "ok" and record.latency_ms > 0


async def test_the_request_carries_key_headers_model_tools_and_output_cap(
    llm_server: FakeLLMServer, backend: Callable[..., OpenAIChatModel]
) -> None:
    llm_server.push(openai_reply([("assess", ASSESS_OK)]))
    ask, _, _ = caller(backend(llm_server))
    await ask.ask(REQUEST, TOOLS, FAULTS)
    (sent,) = llm_server.received
    assert sent.path == "/v1/chat/completions"
    assert sent.headers["authorization"] == "Bearer sk-local-test"
    assert sent.headers["x-tenant"] == "nightshift"
    assert sent.body["model"] == "gpt-test"
    assert sent.body["tool_choice"] == "required"
    assert sent.body["max_completion_tokens"] == 300
    assert [m["role"] for m in sent.body["messages"]] == ["system", "user"]
    assert {t["function"]["name"] for t in sent.body["tools"]} >= {"assess", "kubectl_logs"}


async def test_429_is_retried_after_the_servers_retry_after(
    llm_server: FakeLLMServer, backend: Callable[..., OpenAIChatModel]
) -> None:
    llm_server.push(rate_limited("3"), openai_reply([("assess", ASSESS_OK)]))
    ask, records, sleeps = caller(backend(llm_server))
    await ask.ask(REQUEST, TOOLS, FAULTS)
    assert sleeps.delays == [3.0]
    assert [r.status for r in records] == ["error", "ok"]
    assert "429" in (records[0].error or "")


async def test_5xx_is_retried_with_exponential_backoff_then_given_up(
    llm_server: FakeLLMServer, backend: Callable[..., OpenAIChatModel]
) -> None:
    llm_server.push(*(error_reply(500) for _ in range(3)))
    retry = RetryPolicy(max_retries=2, backoff_base_s=0.5)
    ask, records, sleeps = caller(backend(llm_server), retry=retry)
    with pytest.raises(RetryableModelError):
        await ask.ask(REQUEST, TOOLS, FAULTS)
    assert sleeps.delays == [0.5, 1.0]
    assert [r.attempt for r in records] == [1, 2, 3]


async def test_a_retry_after_longer_than_the_cap_ends_the_attempt_instead_of_stalling(
    llm_server: FakeLLMServer, backend: Callable[..., OpenAIChatModel]
) -> None:
    llm_server.push(rate_limited("3600"))
    ask, _, sleeps = caller(backend(llm_server), retry=RetryPolicy(backoff_max_s=20))
    with pytest.raises(RetryableModelError):
        await ask.ask(REQUEST, TOOLS, FAULTS)
    assert sleeps.delays == []


async def test_a_400_is_not_retried(
    llm_server: FakeLLMServer, backend: Callable[..., OpenAIChatModel]
) -> None:
    llm_server.push(error_reply(400, "bad tool schema"))
    ask, records, sleeps = caller(backend(llm_server))
    with pytest.raises(ModelError, match="bad tool schema") as caught:
        await ask.ask(REQUEST, TOOLS, FAULTS)
    assert not isinstance(caught.value, RetryableModelError)
    assert len(records) == 1 and sleeps.delays == []


async def test_a_timeout_is_retried(
    llm_server: FakeLLMServer, backend: Callable[..., OpenAIChatModel]
) -> None:
    llm_server.push(hang(1.0), openai_reply([("assess", ASSESS_OK)]))
    ask, records, _ = caller(backend(llm_server, timeout_s=0.2))
    await ask.ask(REQUEST, TOOLS, FAULTS)
    assert records[0].status == "error" and "timeout" in (records[0].error or "").lower()
    assert records[1].status == "ok"


async def test_malformed_json_is_retried_with_the_validation_error(
    llm_server: FakeLLMServer, backend: Callable[..., OpenAIChatModel]
) -> None:
    llm_server.push(
        openai_reply([("assess", '{"hypotheses": [ {"resource": ')]),
        openai_reply([("assess", ASSESS_OK)]),
    )
    ask, records, _ = caller(backend(llm_server))
    answer = await ask.ask(REQUEST, TOOLS, FAULTS)
    assert answer.updates
    retry_prompt = llm_server.received[1].body["messages"][1]["content"]
    assert "YOUR PREVIOUS ANSWER WAS REJECTED" in retry_prompt
    assert "not valid JSON" in retry_prompt
    assert [r.status for r in records] == ["invalid", "ok"]
    assert records[1].purpose == "retry-invalid"


async def test_invalid_answers_are_retried_a_bounded_number_of_times(
    llm_server: FakeLLMServer, backend: Callable[..., OpenAIChatModel]
) -> None:
    bad = openai_reply([("assess", '{"hypotheses": [], "done": "maybe"}')])
    llm_server.push(bad, bad, bad, bad)
    ask, records, _ = caller(backend(llm_server), retry=RetryPolicy(max_invalid_retries=2))
    with pytest.raises(AnswerInvalid, match="parameter 'done' must be boolean, got string"):
        await ask.ask(REQUEST, TOOLS, FAULTS)
    assert len(llm_server.received) == 3
    assert [r.status for r in records] == ["invalid"] * 3


async def test_streaming_assembles_tool_calls_and_reads_usage_from_the_last_chunk(
    llm_server: FakeLLMServer, backend: Callable[..., OpenAIChatModel]
) -> None:
    llm_server.push(
        openai_stream(
            [("kubectl_get", GET_PODS), ("assess", ASSESS_OK)],
            prompt_tokens=1800,
            completion_tokens=90,
            cached_tokens=1024,
        )
    )
    ask, records, _ = caller(backend(llm_server, stream=True))
    answer = await ask.ask(REQUEST, TOOLS, FAULTS)
    assert [c.name for c in answer.calls] == ["kubectl_get"]
    assert llm_server.received[0].body["stream"] is True
    assert (records[0].input_tokens, records[0].cached_tokens) == (1800, 1024)


async def test_a_call_the_budget_cannot_cover_is_never_sent(
    llm_server: FakeLLMServer, backend: Callable[..., OpenAIChatModel]
) -> None:
    ask, records, _ = caller(backend(llm_server), budget=200)
    with pytest.raises(TokenBudgetExhausted):
        await ask.ask(REQUEST, TOOLS, FAULTS)
    assert llm_server.received == [] and records == []
