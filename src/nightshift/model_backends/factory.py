"""Building an LLM reasoner from an agent's plain configuration.

    reasoner = build_reasoner(agent_config["llm"], secrets, tier=request.tier)

``config`` is plain data (from the agent's settings or the investigation
spec); ``secrets`` is what the secret broker handed the worker for the
``llm`` credential source (``api_key`` and any header secrets). Nothing is
read from the environment: the SDKs' own ``OPENAI_API_KEY`` /
``ANTHROPIC_API_KEY`` fallbacks are bypassed by always passing the key.

The SDKs are the ``llm`` extra (``pip install 'nightshift[llm]'``), not a
base dependency: the offline reasoner and the control plane need neither, and
the default image leaves them out. A provider whose SDK is absent fails here,
with the fix, rather than as a bare ``ModuleNotFoundError`` in the worker.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from nightshift.agent.reasoners.llm.accounting import PriceTable
from nightshift.agent.reasoners.llm.calling import RetryPolicy, Sleep
from nightshift.agent.reasoners.llm.config import LLMConfig
from nightshift.agent.reasoners.llm.provider import ChatModel
from nightshift.agent.reasoners.llm.reasoner import LLMReasoner
from nightshift.domain.vocabulary import Tier

PROVIDERS = ("openai", "anthropic")
SDKS = {"openai": "openai", "anthropic": "anthropic"}  # provider -> the module its SDK installs
EXTRA = "llm"  # pyproject's optional dependency group that carries every SDK
_BACKEND_KEYS = {
    "provider", "model", "base_url", "endpoint", "api_key_secret", "api_key_required",
    "headers", "timeout_s", "stream", "tool_choice", "max_tokens_field", "cache_key",
    "temperature", "cache", "prices", "retries",
}  # fmt: skip
_REASONER_KEYS = {
    "mode", "token_budget", "confidence_threshold", "threshold", "always",
    "consult_multi_domain", "consult_after_cycles", "offline_max_cycles",
    "max_output_tokens", "calls_per_cycle", "excerpts", "excerpt_chars", "excerpts_total_chars",
}  # fmt: skip
_RETRY_KEYS = {"max_retries", "max_invalid_retries", "backoff_base_s", "backoff_max_s"}
_NO_KEY = "unused"  # keyless local servers (Ollama, llama.cpp) still need a non-empty value


class LLMConfigError(ValueError):
    """The agent's LLM configuration is incomplete or misspelt."""


class LLMBackendUnavailable(LLMConfigError):
    """The configured provider's SDK is not installed where the worker runs."""

    def __init__(self, provider: str) -> None:
        self.provider = provider
        super().__init__(
            f"llm.provider {provider!r} needs the {SDKS[provider]!r} SDK, which is not "
            f"installed here: install the {EXTRA!r} extra (pip install 'nightshift[{EXTRA}]') "
            f"or run the image built with it (scripts/build-image with "
            f"NIGHTSHIFT_IMAGE_EXTRAS={EXTRA}, or --build-arg EXTRAS={EXTRA}); "
            "the offline reasoner needs no SDK"
        )


def _sdk_missing(provider: str, exc: ModuleNotFoundError) -> bool:
    """True when the import failed on the SDK itself, not on something it imports."""
    sdk = SDKS[provider]
    return exc.name is not None and (exc.name == sdk or exc.name.startswith(sdk + "."))


def build_model(config: Mapping[str, Any], secrets: Mapping[str, str]) -> ChatModel:
    provider = str(config.get("provider", "openai"))
    if provider not in PROVIDERS:
        raise LLMConfigError(f"llm.provider must be one of {PROVIDERS}, not {provider!r}")
    model = config.get("model")
    if not model:
        raise LLMConfigError("llm.model is required")
    key_name = str(config.get("api_key_secret", "api_key"))
    api_key = secrets.get(key_name, "")
    if not api_key:
        if config.get("api_key_required", True):
            raise LLMConfigError(
                f"no {key_name!r} in the llm credentials from the secret broker "
                "(set api_key_required: false for a keyless local endpoint)"
            )
        api_key = _NO_KEY
    base_url = config.get("base_url") or config.get("endpoint")
    headers = _headers(config.get("headers") or {}, secrets)
    common: dict[str, Any] = {
        "model": str(model),
        "api_key": api_key,
        "base_url": str(base_url) if base_url else None,
        "headers": headers,
        "timeout_s": float(config.get("timeout_s", 60.0)),
        "stream": bool(config.get("stream", False)),
    }
    if provider == "anthropic":
        try:
            from nightshift.model_backends.anthropic_backend import AnthropicChatModel
        except ModuleNotFoundError as exc:
            if _sdk_missing(provider, exc):
                raise LLMBackendUnavailable(provider) from exc
            raise
        return AnthropicChatModel(**common, cache=bool(config.get("cache", True)))
    if "temperature" in config:  # OpenAI-compatible only; current Anthropic models fix it
        t = config["temperature"]
        common["temperature"] = None if t is None else float(t)
    try:
        from nightshift.model_backends.openai_backend import OpenAIChatModel
    except ModuleNotFoundError as exc:
        if _sdk_missing(provider, exc):
            raise LLMBackendUnavailable(provider) from exc
        raise
    cache_key = config.get("cache_key")
    if cache_key is True:  # a stable key per model: requests share the cached prefix
        cache_key = "nightshift-" + hashlib.sha256(str(model).encode()).hexdigest()[:12]
    return OpenAIChatModel(
        **common,
        tool_choice=str(config.get("tool_choice", "required")),
        max_tokens_field=str(config.get("max_tokens_field", "max_completion_tokens")),
        cache_key=str(cache_key) if cache_key else None,
    )


def llm_config(config: Mapping[str, Any], tier: Tier | None = None) -> LLMConfig:
    unknown = set(config) - _BACKEND_KEYS - _REASONER_KEYS
    if unknown:
        raise LLMConfigError(f"unknown llm settings: {sorted(unknown)}")
    retries = dict(config.get("retries") or {})
    if set(retries) - _RETRY_KEYS:
        raise LLMConfigError(f"unknown llm.retries settings: {sorted(set(retries) - _RETRY_KEYS)}")
    values: dict[str, Any] = {}
    for name in _REASONER_KEYS - {"threshold", "token_budget"}:
        if name in config:
            values[name] = config[name]
    if "threshold" in config and "confidence_threshold" not in config:
        values["confidence_threshold"] = config["threshold"]
    budget = config.get("token_budget")
    if isinstance(budget, Mapping):  # per tier: {"single-domain": 12000, "multi-domain": 40000}
        budget = budget.get((tier or Tier.SINGLE_DOMAIN).value)
    if budget is not None:
        values["token_budget"] = int(budget)
    try:
        return LLMConfig(retry=RetryPolicy(**retries), **values)
    except (TypeError, ValueError) as exc:
        raise LLMConfigError(str(exc)) from exc


def build_reasoner(
    config: Mapping[str, Any],
    secrets: Mapping[str, str],
    *,
    tier: Tier | None = None,
    sleep: Sleep | None = None,
) -> LLMReasoner:
    """An LLM (or hybrid) reasoner for one investigation."""
    settings = llm_config(config, tier)
    prices = PriceTable.from_mapping(config.get("prices") or {})
    model = build_model(config, secrets)
    if sleep is None:
        return LLMReasoner(model, settings, prices)
    return LLMReasoner(model, settings, prices, sleep=sleep)


def _headers(raw: Mapping[str, Any], secrets: Mapping[str, str]) -> dict[str, str]:
    """Header values ``secret:NAME`` are read from the broker's credentials."""
    out: dict[str, str] = {}
    for name, value in raw.items():
        text = str(value)
        if text.startswith("secret:"):
            ref = text.removeprefix("secret:")
            if ref not in secrets:
                raise LLMConfigError(f"header {name!r} refers to missing secret {ref!r}")
            text = secrets[ref]
        out[str(name)] = text
    return out


def validate_config(config: Mapping[str, Any]) -> None:
    """Refuse a misspelt or incomplete configuration before it is stored."""
    allowed = _BACKEND_KEYS | _REASONER_KEYS | _RETRY_KEYS
    unknown = sorted(set(config) - allowed)
    if unknown:
        raise LLMConfigError(f"unknown llm setting(s): {', '.join(unknown)}")
    if str(config.get("provider", "openai")) not in PROVIDERS:
        raise LLMConfigError(f"llm.provider must be one of {PROVIDERS}")
    if not config.get("model"):
        raise LLMConfigError("llm.model is required")
