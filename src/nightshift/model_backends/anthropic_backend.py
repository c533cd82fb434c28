"""Anthropic messages through the official ``anthropic`` SDK.

Prompt caching is explicit on Anthropic: the tools and the system prompt are
the stable prefix of every call of an investigation, so the system block
carries a ``cache_control`` breakpoint (the cache covers tools + system).
Anthropic's ``input_tokens`` excludes cache reads and writes; they are added
back so that ``Usage.input_tokens`` means the same for every provider.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import anthropic

from nightshift.agent.reasoners.llm.provider import (
    ChatRequest,
    ChatResponse,
    ModelError,
    ModelToolCall,
    RetryableModelError,
    Usage,
)
from nightshift.model_backends.errors import from_status


class AnthropicChatModel:
    provider = "anthropic"

    def __init__(
        self,
        *,
        model: str,
        api_key: str,
        base_url: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout_s: float = 60.0,
        stream: bool = False,
        cache: bool = True,
        client: anthropic.AsyncAnthropic | None = None,
    ) -> None:
        self.model = model
        self.stream = stream
        self.cache = cache
        self._client = client or anthropic.AsyncAnthropic(
            api_key=api_key,
            base_url=base_url,
            default_headers=dict(headers or {}),
            timeout=timeout_s,
            max_retries=0,
        )

    async def close(self) -> None:
        await self._client.close()

    def _kwargs(self, request: ChatRequest) -> dict[str, Any]:
        system: dict[str, Any] = {"type": "text", "text": request.system}
        if self.cache:
            system["cache_control"] = {"type": "ephemeral"}
        kwargs: dict[str, Any] = {
            "model": self.model,
            "max_tokens": request.max_output_tokens,
            "system": [system],
            "messages": [{"role": "user", "content": request.user}],
            "tools": [
                {"name": t.name, "description": t.description, "input_schema": dict(t.parameters)}
                for t in request.tools
            ],
            "tool_choice": {"type": "any"},
        }
        return kwargs

    async def complete(self, request: ChatRequest) -> ChatResponse:
        try:
            if self.stream:
                async with self._client.messages.stream(**self._kwargs(request)) as stream:
                    message: Any = await stream.get_final_message()
            else:
                message = await self._client.messages.create(**self._kwargs(request))
        except anthropic.APITimeoutError as exc:
            raise RetryableModelError(f"timeout: {exc}") from exc
        except anthropic.APIConnectionError as exc:
            raise RetryableModelError(f"connection failed: {exc}") from exc
        except anthropic.APIStatusError as exc:
            raise from_status(exc.status_code, _message(exc), dict(exc.response.headers)) from exc
        except anthropic.APIError as exc:
            raise ModelError(f"{type(exc).__name__}: {exc}") from exc
        text: list[str] = []
        calls: list[ModelToolCall] = []
        for block in message.content:
            if block.type == "text":
                text.append(block.text)
            elif block.type == "tool_use":
                calls.append(ModelToolCall(block.id, block.name, json.dumps(block.input)))
        return ChatResponse(
            text="".join(text),
            tool_calls=tuple(calls),
            usage=_usage(message.usage),
            model=message.model or self.model,
            stop_reason=message.stop_reason or "",
        )


def _usage(usage: Any) -> Usage:
    read = int(getattr(usage, "cache_read_input_tokens", None) or 0)
    written = int(getattr(usage, "cache_creation_input_tokens", None) or 0)
    fresh = int(getattr(usage, "input_tokens", None) or 0)
    return Usage(
        input_tokens=fresh + read + written,
        output_tokens=int(getattr(usage, "output_tokens", None) or 0),
        cached_tokens=read,
        cache_write_tokens=written,
    )


def _message(exc: anthropic.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, Mapping):
        err = body.get("error", body)
        if isinstance(err, Mapping) and err.get("message"):
            return f"HTTP {exc.status_code}: {err['message']}"
    return f"HTTP {exc.status_code}: {exc.message}"
