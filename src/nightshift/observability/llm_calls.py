"""The per-call accounting events LLM reasoners emit (kind ``llm.call``).

The reasoners record model, tokens, latency, errors and cost for every call;
this reads such an event leniently (a field may be missing, named the
provider's way, or given in milliseconds), so metrics, traces and cost
attribution share one reading of it. When the event carries no cost, the
configured price table (USD per million tokens, per model) prices it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

LLM_CALL = "llm.call"
CALL_STATUSES = frozenset({"ok", "invalid", "error", "refused-budget"})


@dataclass(frozen=True, slots=True)
class TokenPrice:
    """USD per million tokens."""

    input: float = 0.0
    output: float = 0.0
    cached: float = 0.0


def _int(data: Mapping[str, Any], *keys: str) -> int:
    for key in keys:
        value = data.get(key)
        if isinstance(value, int | float) and value >= 0:
            return int(value)
    return 0


def _float(data: Mapping[str, Any], *keys: str) -> float | None:
    for key in keys:
        value = data.get(key)
        if isinstance(value, int | float) and value >= 0:
            return float(value)
    return None


@dataclass(frozen=True, slots=True)
class LlmCall:
    model: str
    provider: str
    input_tokens: int
    output_tokens: int
    cached_tokens: int
    latency_seconds: float | None
    cost_usd: float | None  # None: the reasoner did not price it
    error: str
    status: str  # ok | invalid | error | refused-budget (the reasoners' own words)

    @classmethod
    def from_event(cls, data: Mapping[str, Any]) -> LlmCall:
        usage = data.get("usage")
        source: Mapping[str, Any] = {**usage, **data} if isinstance(usage, Mapping) else data
        latency = _float(source, "latency_s", "latency_seconds", "duration_s")
        if latency is None:
            ms = _float(source, "latency_ms", "duration_ms")
            latency = ms / 1000 if ms is not None else None
        error = source.get("error")
        status = str(source.get("status") or ("error" if error else "ok"))
        return cls(
            model=str(source.get("model") or "unknown"),
            provider=str(source.get("provider") or source.get("system") or "unknown"),
            input_tokens=_int(source, "input_tokens", "tokens_in", "prompt_tokens"),
            output_tokens=_int(source, "output_tokens", "tokens_out", "completion_tokens"),
            cached_tokens=_int(source, "cached_tokens", "tokens_cached", "cache_read_tokens"),
            latency_seconds=latency,
            cost_usd=_float(source, "cost_usd", "cost"),
            error=str(error) if error else "",
            status=status if status in CALL_STATUSES else "error",
        )

    def priced(self, prices: Mapping[str, TokenPrice]) -> float:
        """The call's cost: as reported, else from the price table, else zero.

        Cached tokens are billed at the cached rate; providers report them
        either inside or beside the input count, so the uncached input is
        never taken below zero.
        """
        if self.cost_usd is not None:
            return self.cost_usd
        price = prices.get(self.model)
        if price is None:
            return 0.0
        uncached = max(0, self.input_tokens - self.cached_tokens)
        return (
            uncached * price.input
            + self.cached_tokens * price.cached
            + self.output_tokens * price.output
        ) / 1_000_000
