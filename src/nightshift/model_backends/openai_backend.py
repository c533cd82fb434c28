"""OpenAI chat completions through the official ``openai`` SDK.

Any OpenAI-compatible endpoint works (OpenAI, Azure OpenAI's v1 API, vLLM,
Ollama, llama.cpp server): only the base URL, key, model and headers differ.
The SDK's own retries are off (``max_retries=0``): the agent layer retries,
so every attempt is accounted for and Retry-After is honoured the same way for
every provider. Prompt caching is automatic on OpenAI for stable prefixes of
1024+ tokens (the system prompt and tools come first and never change within
an investigation); the cached part is read from ``usage.prompt_tokens_details``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import openai

from nightshift.agent.reasoners.llm.provider import (
    ChatRequest,
    ChatResponse,
    ModelError,
    ModelToolCall,
    RetryableModelError,
    Usage,
)
from nightshift.model_backends.errors import from_status


class OpenAIChatModel:
    provider = "openai"

    def __init__(
        self,
        *,
        model: str,
        api_key: str,
        base_url: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout_s: float = 60.0,
        stream: bool = False,
        tool_choice: str = "required",
        max_tokens_field: str = "max_completion_tokens",
        cache_key: str | None = None,
        temperature: float | None = 0.0,
        client: openai.AsyncOpenAI | None = None,
    ) -> None:
        self.model = model
        self.stream = stream
        self.tool_choice = tool_choice
        self.max_tokens_field = max_tokens_field
        self.cache_key = cache_key
        self.temperature = temperature
        self._client = client or openai.AsyncOpenAI(
            api_key=api_key,
            base_url=base_url,
            default_headers=dict(headers or {}),
            timeout=timeout_s,
            max_retries=0,
        )

    async def close(self) -> None:
        await self._client.close()

    def _kwargs(self, request: ChatRequest) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "model": self.model,
            "messages": [
                {"role": "system", "content": request.system},
                {"role": "user", "content": request.user},
            ],
            "tools": [
                {
                    "type": "function",
                    "function": {
                        "name": t.name,
                        "description": t.description,
                        "parameters": dict(t.parameters),
                    },
                }
                for t in request.tools
            ],
            "tool_choice": self.tool_choice,
            self.max_tokens_field: request.max_output_tokens,
        }
        if self.temperature is not None:
            kwargs["temperature"] = self.temperature
        if self.cache_key:
            kwargs["prompt_cache_key"] = self.cache_key
        return kwargs

    async def complete(self, request: ChatRequest) -> ChatResponse:
        try:
            if self.stream:
                return await self._streamed(self._kwargs(request))
            response = await self._client.chat.completions.create(**self._kwargs(request))
        except openai.APITimeoutError as exc:
            raise RetryableModelError(f"timeout: {exc}") from exc
        except openai.APIConnectionError as exc:
            raise RetryableModelError(f"connection failed: {exc}") from exc
        except openai.APIStatusError as exc:
            raise from_status(exc.status_code, _message(exc), dict(exc.response.headers)) from exc
        except openai.APIError as exc:  # e.g. an undecodable body
            raise ModelError(f"{type(exc).__name__}: {exc}") from exc
        if not response.choices:
            raise RetryableModelError("the endpoint returned no choices")
        message = response.choices[0].message
        calls = tuple(
            ModelToolCall(tc.id, tc.function.name, tc.function.arguments or "")
            for tc in message.tool_calls or ()
            if tc.type == "function"
        )
        return ChatResponse(
            text=message.content or "",
            tool_calls=calls,
            usage=_usage(response.usage),
            model=response.model or self.model,
            stop_reason=response.choices[0].finish_reason or "",
        )

    async def _streamed(self, kwargs: dict[str, Any]) -> ChatResponse:
        """Streaming keeps long generations alive behind proxies with idle
        timeouts; the answer is assembled from the deltas, usage from the
        final chunk."""
        stream = await self._client.chat.completions.create(
            **kwargs, stream=True, stream_options={"include_usage": True}
        )
        text: list[str] = []
        parts: dict[int, dict[str, str]] = {}
        usage: Usage = Usage()
        model, finish = self.model, ""
        async for chunk in stream:
            model = chunk.model or model
            if chunk.usage is not None:
                usage = _usage(chunk.usage)
            for choice in chunk.choices:
                finish = choice.finish_reason or finish
                delta = choice.delta
                if delta.content:
                    text.append(delta.content)
                for tc in delta.tool_calls or ():
                    part = parts.setdefault(tc.index, {"id": "", "name": "", "arguments": ""})
                    part["id"] = tc.id or part["id"]
                    if tc.function is not None:
                        part["name"] += tc.function.name or ""
                        part["arguments"] += tc.function.arguments or ""
        calls = tuple(
            ModelToolCall(p["id"] or f"call_{i}", p["name"], p["arguments"])
            for i, p in sorted(parts.items())
        )
        return ChatResponse("".join(text), calls, usage, model, finish)


def _usage(usage: Any) -> Usage:
    if usage is None:
        return Usage()
    details = getattr(usage, "prompt_tokens_details", None)
    cached = getattr(details, "cached_tokens", None) or 0
    return Usage(
        input_tokens=int(usage.prompt_tokens or 0),
        output_tokens=int(usage.completion_tokens or 0),
        cached_tokens=int(cached),
    )


def _message(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, Mapping):
        err = body.get("error", body)
        if isinstance(err, Mapping) and err.get("message"):
            return f"HTTP {exc.status_code}: {err['message']}"
    return f"HTTP {exc.status_code}: {json.dumps(body)[:300] if body else exc.message}"
