"""The provider SDKs are the optional ``llm`` extra: where one is missing (the default
image), configuring its provider fails with the fix, not a bare ModuleNotFoundError."""

from __future__ import annotations

import sys

import pytest

from nightshift.model_backends.factory import (
    SDKS,
    LLMBackendUnavailable,
    LLMConfigError,
    build_reasoner,
)
from tests.unit.llm.conftest import Closer


def _uninstall(monkeypatch: pytest.MonkeyPatch, provider: str) -> None:
    """As if the SDK were not installed: a None in sys.modules makes its import fail
    with ModuleNotFoundError naming it, and the backend module must be imported anew."""
    monkeypatch.setitem(sys.modules, SDKS[provider], None)
    monkeypatch.delitem(sys.modules, f"nightshift.model_backends.{provider}_backend", raising=False)


@pytest.mark.parametrize("provider", sorted(SDKS))
def test_a_provider_without_its_sdk_names_the_extra_to_install(
    monkeypatch: pytest.MonkeyPatch, provider: str
) -> None:
    _uninstall(monkeypatch, provider)
    with pytest.raises(LLMBackendUnavailable) as caught:
        build_reasoner({"provider": provider, "model": "m"}, {"api_key": "k"})
    message = str(caught.value)
    assert "pip install 'nightshift[llm]'" in message
    assert f"the {SDKS[provider]!r} SDK" in message
    assert "NIGHTSHIFT_IMAGE_EXTRAS=llm" in message
    # Callers that refuse bad configuration (the worker, the API) catch it as one.
    assert isinstance(caught.value, LLMConfigError)


def test_only_the_configured_providers_sdk_is_needed(
    monkeypatch: pytest.MonkeyPatch, closing: Closer
) -> None:
    _uninstall(monkeypatch, "anthropic")
    reasoner = build_reasoner(
        {"provider": "openai", "model": "m", "base_url": "http://127.0.0.1:9/v1"},
        {"api_key": "k"},
    )
    closing(reasoner.model)
    assert reasoner.name == "hybrid:openai/m"


def test_configuration_errors_are_reported_before_a_missing_sdk(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _uninstall(monkeypatch, "openai")
    with pytest.raises(LLMConfigError, match="no 'api_key'"):
        build_reasoner({"provider": "openai", "model": "m"}, {})
