from __future__ import annotations

import openai
import pytest

from nightshift.agent.reasoners.llm.provider import ChatRequest, RetryableModelError
from nightshift.model_backends.openai_backend import OpenAIChatModel
from tests.support.network_guard import RealNetworkBlocked
from tests.unit.llm.conftest import Closer


def test_a_real_provider_endpoint_is_unreachable_from_the_suite() -> None:
    import socket

    with pytest.raises(RealNetworkBlocked):
        socket.create_connection(("api.openai.com", 443), timeout=1)


async def test_the_sdk_cannot_reach_a_real_model_either(closing: Closer) -> None:
    model = closing(OpenAIChatModel(model="gpt-4o-mini", api_key="sk-test", timeout_s=2))
    with pytest.raises(RetryableModelError, match="connection failed"):
        await model.complete(ChatRequest("s", "u", ()))


def test_no_provider_key_is_visible_to_the_sdks(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(openai.OpenAIError):
        openai.OpenAI()  # would read OPENAI_API_KEY if the suite leaked one
