"""Building a reasoner from an agent's plain configuration and broker secrets."""

from __future__ import annotations

import pytest

from nightshift.domain.vocabulary import Tier
from nightshift.model_backends.anthropic_backend import AnthropicChatModel
from nightshift.model_backends.factory import LLMConfigError, build_reasoner
from nightshift.model_backends.openai_backend import OpenAIChatModel
from tests.support.fake_llm_server import FakeLLMServer, openai_reply
from tests.unit.llm.calls import ASSESS_OK, FAULTS, REQUEST, TOOLS, caller
from tests.unit.llm.conftest import Closer

BASE = {"provider": "openai", "model": "gpt-test", "base_url": "http://127.0.0.1:9/v1"}


def test_per_tier_budgets_threshold_and_mode_come_from_the_config(closing: Closer) -> None:
    config = BASE | {
        "mode": "hybrid",
        "threshold": 0.7,
        "token_budget": {"single-domain": 12_000, "multi-domain": 40_000},
        "retries": {"max_retries": 1},
        "prices": {"gpt-test": {"input": 1, "output": 2}},
    }
    single = build_reasoner(config, {"api_key": "k"}, tier=Tier.SINGLE_DOMAIN)
    multi = build_reasoner(config, {"api_key": "k"}, tier=Tier.MULTI_DOMAIN)
    closing(single.model)
    closing(multi.model)
    assert (single.config.token_budget, multi.config.token_budget) == (12_000, 40_000)
    assert single.config.confidence_threshold == 0.7
    assert single.config.retry.max_retries == 1
    assert single.prices.prices["gpt-test"].output == 2
    assert isinstance(single.model, OpenAIChatModel)


def test_anthropic_is_selected_by_provider(closing: Closer) -> None:
    reasoner = build_reasoner({"provider": "anthropic", "model": "claude-test"}, {"api_key": "k"})
    closing(reasoner.model)
    assert isinstance(reasoner.model, AnthropicChatModel)
    assert reasoner.name == "hybrid:anthropic/claude-test"


@pytest.mark.parametrize(
    ("config", "secrets", "message"),
    [
        (BASE, {}, "no 'api_key'"),
        (BASE | {"modle": "x"}, {"api_key": "k"}, "unknown llm settings"),
        (BASE | {"provider": "acme"}, {"api_key": "k"}, "provider must be one of"),
        ({"provider": "openai"}, {"api_key": "k"}, "model is required"),
        (BASE | {"mode": "yolo"}, {"api_key": "k"}, "mode must be one of"),
        (BASE | {"headers": {"X-Org": "secret:org"}}, {"api_key": "k"}, "missing secret 'org'"),
        (BASE | {"retries": {"forever": True}}, {"api_key": "k"}, "unknown llm.retries"),
    ],
)
def test_incomplete_or_misspelt_configuration_is_refused(
    config: dict[str, object], secrets: dict[str, str], message: str
) -> None:
    with pytest.raises(LLMConfigError, match=message):
        build_reasoner(config, secrets)


async def test_the_key_and_secret_headers_come_from_the_broker_not_the_environment(
    llm_server: FakeLLMServer, closing: Closer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env-must-not-be-used")
    config = {
        "provider": "openai",
        "model": "gpt-test",
        "base_url": llm_server.openai_base,
        "api_key_secret": "openai_key",
        "headers": {"OpenAI-Organization": "secret:org"},
    }
    reasoner = build_reasoner(config, {"openai_key": "sk-broker", "org": "org-7"})
    closing(reasoner.model)
    llm_server.push(openai_reply([("assess", ASSESS_OK)]))
    ask, _, _ = caller(reasoner.model)
    await ask.ask(REQUEST, TOOLS, FAULTS)
    sent = llm_server.received[0].headers
    assert sent["authorization"] == "Bearer sk-broker"
    assert sent["openai-organization"] == "org-7"


async def test_a_keyless_local_server_needs_no_secret(
    llm_server: FakeLLMServer, closing: Closer
) -> None:
    config = {
        "provider": "openai",
        "model": "llama3",
        "base_url": llm_server.openai_base,
        "api_key_required": False,
        "max_tokens_field": "max_tokens",
        "tool_choice": "auto",
    }
    reasoner = build_reasoner(config, {})
    closing(reasoner.model)
    llm_server.push(openai_reply([("assess", ASSESS_OK)], model="llama3"))
    ask, _, _ = caller(reasoner.model)
    await ask.ask(REQUEST, TOOLS, FAULTS)
    body = llm_server.received[0].body
    assert body["max_tokens"] == 300 and "max_completion_tokens" not in body
    assert body["tool_choice"] == "auto"
