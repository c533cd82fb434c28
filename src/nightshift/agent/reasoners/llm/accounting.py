"""Tokens, cost and the per-investigation token budget.

The budget is a hard input: a call whose worst case (estimated prompt plus the
output cap) does not fit is never sent, and once spent the LLM path ends with
an escalation. Nothing here ever raises the limit.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from nightshift.agent.reasoners.llm.provider import ChatRequest, Usage

# A deliberately high estimate (common BPE tokenizers average nearer 4 characters
# per token on English; tables and JSON run denser): overestimating keeps the
# pre-call budget check on the safe side. Billed counts always come from usage.
CHARS_PER_TOKEN = 3.0
_PER_MESSAGE_OVERHEAD = 8


def estimate_tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def estimate_request(request: ChatRequest) -> int:
    tools = sum(
        estimate_tokens(t.name + t.description + json.dumps(t.parameters, separators=(",", ":")))
        for t in request.tools
    )
    return (
        estimate_tokens(request.system)
        + estimate_tokens(request.user)
        + tools
        + 2 * _PER_MESSAGE_OVERHEAD
    )


@dataclass(frozen=True, slots=True)
class Price:
    """USD per million tokens."""

    input: float
    output: float
    cached_input: float | None = None  # defaults to ``input`` (no discount)
    cache_write: float | None = None  # defaults to ``input``

    def cost(self, usage: Usage) -> float:
        cached = usage.cached_tokens
        written = usage.cache_write_tokens
        fresh = max(usage.input_tokens - cached - written, 0)
        total = (
            fresh * self.input
            + cached * (self.input if self.cached_input is None else self.cached_input)
            + written * (self.input if self.cache_write is None else self.cache_write)
            + usage.output_tokens * self.output
        )
        return total / 1_000_000


@dataclass(frozen=True, slots=True)
class PriceTable:
    """Model name -> price; a model not in the table is recorded as unpriced."""

    prices: Mapping[str, Price]

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Mapping[str, Any]]) -> PriceTable:
        prices: dict[str, Price] = {}
        for model, row in raw.items():
            prices[str(model)] = Price(
                input=float(row["input"]),
                output=float(row["output"]),
                cached_input=_opt_float(row.get("cached_input")),
                cache_write=_opt_float(row.get("cache_write")),
            )
        return cls(prices)

    def cost(self, model: str, usage: Usage) -> float | None:
        price = self.prices.get(model)
        if price is None:  # "gpt-4o-2024-08-06" may be priced under "gpt-4o"
            matches = [m for m in self.prices if model.startswith(m)]
            price = self.prices[max(matches, key=len)] if matches else None
        return None if price is None else price.cost(usage)


def _opt_float(value: Any) -> float | None:
    return None if value is None else float(value)


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One model round trip, as stored on the investigation (an ``llm.call`` event)."""

    provider: str
    model: str
    purpose: str  # plan | assess | retry-invalid
    attempt: int
    input_tokens: int
    output_tokens: int
    cached_tokens: int
    latency_ms: float
    cost_usd: float | None
    status: str  # ok | invalid | error | refused-budget
    error: str | None = None
    estimated_input_tokens: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "model": self.model,
            "purpose": self.purpose,
            "attempt": self.attempt,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cached_tokens": self.cached_tokens,
            "latency_ms": round(self.latency_ms, 1),
            "cost_usd": None if self.cost_usd is None else round(self.cost_usd, 6),
            "status": self.status,
            "error": self.error,
            "estimated_input_tokens": self.estimated_input_tokens,
        }


class TokenBudgetExhausted(RuntimeError):
    """The per-investigation token budget cannot cover the next call."""


class TokenBudget:
    """Input plus output tokens one investigation may spend on the model."""

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("a token budget must be positive")
        self.limit = limit
        self.spent = 0

    @property
    def remaining(self) -> int:
        return max(self.limit - self.spent, 0)

    def reserve(self, estimated_input: int, max_output: int) -> None:
        """Refuse (raise) a call whose worst case would not fit."""
        need = estimated_input + max_output
        if need > self.remaining:
            raise TokenBudgetExhausted(
                f"token budget exhausted: the next call needs up to {need} tokens, "
                f"{self.remaining} of {self.limit} left"
            )

    def charge(self, usage: Usage) -> None:
        self.spent += usage.input_tokens + usage.output_tokens


def totals(records: list[CallRecord]) -> dict[str, Any]:
    """The investigation's LLM bill, for the diagnosis stats."""
    costs = [r.cost_usd for r in records if r.cost_usd is not None]
    return {
        "calls": len(records),
        "errors": sum(1 for r in records if r.status != "ok"),
        "input_tokens": sum(r.input_tokens for r in records),
        "output_tokens": sum(r.output_tokens for r in records),
        "cached_tokens": sum(r.cached_tokens for r in records),
        "latency_ms": round(sum(r.latency_ms for r in records), 1),
        "cost_usd": round(sum(costs), 6) if costs else None,
        "models": sorted({r.model for r in records}),
    }
