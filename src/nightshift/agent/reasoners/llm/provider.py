"""The provider-neutral chat-model protocol the LLM reasoner talks to.

The agent layer owns this contract and never imports an SDK; adapters in
``nightshift.model_backends`` (OpenAI-compatible, Anthropic) implement it over the
official SDKs. One request is one HTTP round trip: retries, validation
retries, budgets and accounting live in the agent layer so they behave the
same whatever the provider.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class ToolDef:
    """A function the model may call (native tool calling)."""

    name: str
    description: str
    parameters: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class ModelToolCall:
    """A tool call as the model wrote it; ``arguments`` is the raw JSON text."""

    id: str
    name: str
    arguments: str


@dataclass(frozen=True, slots=True)
class ChatRequest:
    """``system`` and ``tools`` are the stable, cacheable prefix; ``user`` the
    per-call state. Every call is stateless: no growing transcript."""

    system: str
    user: str
    tools: tuple[ToolDef, ...]
    max_output_tokens: int = 1024


@dataclass(frozen=True, slots=True)
class Usage:
    input_tokens: int = 0  # everything the provider billed as input, cached included
    output_tokens: int = 0
    cached_tokens: int = 0  # the part of input_tokens served from the prompt cache
    cache_write_tokens: int = 0  # Anthropic: input written to the cache on this call


@dataclass(frozen=True, slots=True)
class ChatResponse:
    text: str
    tool_calls: tuple[ModelToolCall, ...]
    usage: Usage
    model: str
    stop_reason: str = ""
    raw_meta: Mapping[str, Any] = field(default_factory=dict)


class ModelError(RuntimeError):
    """The call failed and retrying will not help (bad key, bad request)."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class RetryableModelError(ModelError):
    """429, 5xx, a timeout or a dropped connection: worth another attempt.
    ``retry_after`` is the server's Retry-After in seconds, when it sent one."""

    def __init__(
        self, message: str, *, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message, status=status)
        self.retry_after = retry_after


class ChatModel(Protocol):
    """One chat completion with native tool calling; implemented by adapters."""

    provider: str
    model: str

    async def complete(self, request: ChatRequest) -> ChatResponse: ...
