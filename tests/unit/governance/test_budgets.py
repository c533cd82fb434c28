"""Budgets only shrink; running out raises a named error."""

from __future__ import annotations

import pytest

from nightshift.governance.budgets import (
    Budget,
    BudgetDimension,
    BudgetError,
    BudgetExhaustedError,
    BudgetLedger,
)

from .builders import wide_boundaries


def test_budget_comes_from_boundaries() -> None:
    b = Budget.from_boundaries(wide_boundaries(max_tokens=10, max_tool_calls=2))
    assert (b.tokens, b.tool_calls) == (10, 2)


def test_spending_returns_the_remainder() -> None:
    b = Budget(100, 1.0, 60.0, 5).spend(tokens=40, cost_usd=0.25, wall_seconds=10, tool_calls=1)
    assert b == Budget(60, 0.75, 50.0, 4)


@pytest.mark.parametrize(
    ("kwargs", "dimension"),
    [
        ({"tokens": 101}, BudgetDimension.TOKENS),
        ({"cost_usd": 1.01}, BudgetDimension.COST),
        ({"wall_seconds": 61}, BudgetDimension.WALL),
        ({"tool_calls": 6}, BudgetDimension.CALLS),
    ],
)
def test_overspending_raises_a_named_error(kwargs: dict[str, float], dimension: str) -> None:
    with pytest.raises(BudgetExhaustedError) as err:
        Budget(100, 1.0, 60.0, 5).spend(**kwargs)  # type: ignore[arg-type]
    assert err.value.dimension is dimension


@pytest.mark.parametrize(
    "kwargs",
    [
        {"tokens": -1},
        {"cost_usd": -0.5},
        {"wall_seconds": float("inf")},
        {"cost_usd": float("nan")},
        {"tool_calls": float("nan")},
    ],
)
def test_budget_never_grows(kwargs: dict[str, float]) -> None:
    with pytest.raises(BudgetError):
        Budget(100, 1.0, 60.0, 5).spend(**kwargs)  # type: ignore[arg-type]


def test_negative_or_infinite_budgets_are_refused() -> None:
    with pytest.raises(BudgetError):
        Budget(-1, 1.0, 1.0, 1)
    with pytest.raises(BudgetError):
        Budget(1, float("inf"), 1.0, 1)
    with pytest.raises(BudgetError):
        Budget(1, 1.0, float("nan"), 1)


def test_spending_to_exactly_zero_marks_the_dimension_exhausted() -> None:
    b = Budget(1, 1.0, 1.0, 1).spend(tool_calls=1)
    assert b.exhausted() is BudgetDimension.CALLS


def test_ledger_raises_and_keeps_its_state_on_overdraw() -> None:
    ledger = BudgetLedger(Budget(10, 1.0, 10.0, 3))
    ledger.charge(tokens=4, tool_calls=1)
    with pytest.raises(BudgetExhaustedError):
        ledger.charge(tokens=7)
    assert ledger.remaining == Budget(6, 1.0, 10.0, 2)


def test_child_share_is_carved_from_the_parent() -> None:
    child, parent = Budget(100, 1.0, 60.0, 5).share(Budget(30, 0.5, 20.0, 2))
    assert child == Budget(30, 0.5, 20.0, 2)
    assert parent == Budget(70, 0.5, 40.0, 3)
    with pytest.raises(BudgetError):
        Budget(10, 1.0, 1.0, 1).share(Budget(11, 0.0, 0.0, 0))


def test_capped_takes_the_smaller_of_each_dimension() -> None:
    capped = Budget(100, 1.0, 60.0, 5).capped(Budget(50, 2.0, 10.0, 9))
    assert capped == Budget(50, 1.0, 10.0, 5)
