"""The LLM suite never reaches a real model: no API keys in the environment, and
(the whole unit suite's guard, tests/support/network_guard.py) no connection to a
non-loopback address."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.fake_llm_server import FakeLLMServer

_KEY_VARS = (
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "OPENAI_ORG_ID",
    "OPENAI_PROJECT_ID",
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_AUTH_TOKEN",
    "ANTHROPIC_BASE_URL",
    "AZURE_OPENAI_API_KEY",
)


@pytest.fixture(autouse=True)
def _no_real_models(monkeypatch: pytest.MonkeyPatch) -> None:
    """No API key reaches an SDK; tests/unit/conftest.py's guard refuses the network."""
    for var in _KEY_VARS:
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def llm_server() -> Iterator[FakeLLMServer]:
    server = FakeLLMServer().start()
    try:
        yield server
    finally:
        server.stop()


class Closer:
    """Closes every SDK client a test opened (unclosed sockets are warnings = errors)."""

    def __init__(self) -> None:
        self.models: list[Any] = []

    def __call__(self, model: Any) -> Any:
        self.models.append(model)
        return model


@pytest.fixture
async def closing() -> Any:
    closer = Closer()
    yield closer
    for model in closer.models:
        await model.close()
