"""Budgets of one investigation. They are inputs: the loop never grows them."""

from __future__ import annotations

from dataclasses import dataclass

from nightshift.domain.vocabulary import Tier

# Reasoning-depth breaker defaults from the design (cycles per tier).
DEFAULT_MAX_CYCLES = {Tier.SINGLE_DOMAIN: 8, Tier.MULTI_DOMAIN: 15}


@dataclass(frozen=True, slots=True)
class Limits:
    max_cycles: int = 8
    max_tool_calls: int = 48
    calls_per_cycle: int = 6
    call_timeout_s: float = 10.0
    wall_time_s: float = 300.0
    confidence_threshold: float = 0.85
    min_cycles: int = 2  # cycle 1 orients; a verdict needs at least one follow-up look

    def __post_init__(self) -> None:
        if min(self.max_cycles, self.max_tool_calls, self.calls_per_cycle) < 1:
            raise ValueError("limits must allow at least one cycle and one call")
        if self.call_timeout_s <= 0 or self.wall_time_s <= 0:
            raise ValueError("timeouts must be positive")

    @classmethod
    def for_tier(cls, tier: Tier) -> Limits:
        cycles = DEFAULT_MAX_CYCLES[tier]
        return cls(max_cycles=cycles, max_tool_calls=cycles * 6)
