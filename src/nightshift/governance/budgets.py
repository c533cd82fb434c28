"""Budget accounting: tokens, cost, wall time and tool calls, which only shrink.

Budgets are inputs. Spending past zero raises ``BudgetExhaustedError`` naming the
dimension; nothing here can make a budget larger, and a child hop's share is
carved out of (never added to) its parent's remainder.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from nightshift.domain.agents import Boundaries

_INF = math.inf


class BudgetDimension(StrEnum):
    TOKENS = "tokens"
    COST = "cost"
    WALL = "wall"
    CALLS = "calls"


class BudgetError(ValueError):
    """A budget operation was malformed (negative spend, a share that grows)."""


class BudgetExhaustedError(Exception):
    """A budget dimension ran out; the chain must stop and escalate."""

    def __init__(self, dimension: BudgetDimension, message: str) -> None:
        super().__init__(message)
        self.dimension = dimension


@dataclass(frozen=True, slots=True)
class Budget:
    """What is left to spend. Values never go below zero."""

    tokens: int
    cost_usd: float
    wall_seconds: float
    tool_calls: int

    def __post_init__(self) -> None:
        # A budget is rebuilt on every governed tool call: the common case is one
        # chained comparison per field (NaN and infinity fail it), the loop only on refusal.
        if (
            0 <= self.tokens < _INF
            and 0 <= self.cost_usd < _INF
            and 0 <= self.wall_seconds < _INF
            and 0 <= self.tool_calls < _INF
        ):
            return
        for name, value in (
            ("tokens", self.tokens),
            ("cost_usd", self.cost_usd),
            ("wall_seconds", self.wall_seconds),
            ("tool_calls", self.tool_calls),
        ):
            if not math.isfinite(value) or value < 0:
                raise BudgetError(f"budget {name} must be a finite number >= 0, got {value!r}")

    @classmethod
    def from_boundaries(cls, boundaries: Boundaries) -> Budget:
        return cls(
            tokens=boundaries.max_tokens,
            cost_usd=boundaries.max_cost_usd,
            wall_seconds=boundaries.max_wall_seconds,
            tool_calls=boundaries.max_tool_calls,
        )

    def exhausted(self) -> BudgetDimension | None:
        """The first dimension with nothing left, if any."""
        if self.tokens <= 0:
            return BudgetDimension.TOKENS
        if self.cost_usd <= 0:
            return BudgetDimension.COST
        if self.wall_seconds <= 0:
            return BudgetDimension.WALL
        if self.tool_calls <= 0:
            return BudgetDimension.CALLS
        return None

    def covers(self, other: Budget) -> bool:
        return (
            other.tokens <= self.tokens
            and other.cost_usd <= self.cost_usd
            and other.wall_seconds <= self.wall_seconds
            and other.tool_calls <= self.tool_calls
        )

    def capped(self, cap: Budget) -> Budget:
        """The smaller of each dimension: how per-agent limits narrow a chain's remainder."""
        return Budget(
            tokens=min(self.tokens, cap.tokens),
            cost_usd=min(self.cost_usd, cap.cost_usd),
            wall_seconds=min(self.wall_seconds, cap.wall_seconds),
            tool_calls=min(self.tool_calls, cap.tool_calls),
        )

    def spend(
        self,
        *,
        tokens: int = 0,
        cost_usd: float = 0.0,
        wall_seconds: float = 0.0,
        tool_calls: int = 0,
    ) -> Budget:
        """The remainder after spending; raises ``BudgetExhaustedError`` if any goes negative."""
        left_tokens = self.tokens - tokens
        left_cost = self.cost_usd - cost_usd
        left_wall = self.wall_seconds - wall_seconds
        left_calls = self.tool_calls - tool_calls
        # The common case (every governed tool call spends one) is decided by these
        # comparisons alone; NaN and infinity fail them and are named below.
        if (
            0 <= tokens < _INF
            and 0 <= cost_usd < _INF
            and 0 <= wall_seconds < _INF
            and 0 <= tool_calls < _INF
            and left_tokens >= 0
            and left_cost >= 0
            and left_wall >= 0
            and left_calls >= 0
        ):
            return Budget(left_tokens, left_cost, left_wall, left_calls)
        amounts = (
            (BudgetDimension.TOKENS, tokens),
            (BudgetDimension.COST, cost_usd),
            (BudgetDimension.WALL, wall_seconds),
            (BudgetDimension.CALLS, tool_calls),
        )
        for dimension, amount in amounts:
            if not math.isfinite(amount) or amount < 0:
                raise BudgetError(f"cannot spend {amount!r} {dimension.value}: budgets never grow")
        left = (
            (BudgetDimension.TOKENS, self.tokens - tokens, self.tokens),
            (BudgetDimension.COST, self.cost_usd - cost_usd, self.cost_usd),
            (BudgetDimension.WALL, self.wall_seconds - wall_seconds, self.wall_seconds),
            (BudgetDimension.CALLS, self.tool_calls - tool_calls, self.tool_calls),
        )
        for dimension, remainder, before in left:
            if remainder < 0:
                raise BudgetExhaustedError(
                    dimension,
                    f"{dimension.value} budget exhausted: {before:g} left, "
                    f"{before - remainder:g} requested",
                )
        raise AssertionError("unreachable: a refused spend names its dimension")

    def share(self, part: Budget) -> tuple[Budget, Budget]:
        """Carve ``part`` out for a child hop: ``(child, parent_remainder)``."""
        if not self.covers(part):
            raise BudgetError("a child's budget share cannot exceed its parent's remainder")
        parent = self.spend(
            tokens=part.tokens,
            cost_usd=part.cost_usd,
            wall_seconds=part.wall_seconds,
            tool_calls=part.tool_calls,
        )
        return part, parent


class BudgetLedger:
    """Mutable accounting for one loop: a fixed limit and what has been spent.

    The limit is set once; ``charge`` only moves spending forward and raises
    ``BudgetExhaustedError`` (leaving the ledger unchanged) when a charge would
    overdraw any dimension.
    """

    __slots__ = ("_remaining",)

    def __init__(self, limit: Budget) -> None:
        self._remaining = limit

    @property
    def remaining(self) -> Budget:
        return self._remaining

    def charge(
        self,
        *,
        tokens: int = 0,
        cost_usd: float = 0.0,
        wall_seconds: float = 0.0,
        tool_calls: int = 0,
    ) -> Budget:
        self._remaining = self._remaining.spend(
            tokens=tokens, cost_usd=cost_usd, wall_seconds=wall_seconds, tool_calls=tool_calls
        )
        return self._remaining
