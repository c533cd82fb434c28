"""The gateway's chain bookkeeping: the caller is appended, never trusted to add
itself; a hop's spending is remembered; a presented budget cannot exceed the
caller's own boundaries; the per-agent call rate counts a sliding minute."""

from __future__ import annotations

import pytest

from nightshift.domain.agents import AgentIdentity, Boundaries, Principal, register_agent
from nightshift.domain.vocabulary import AuthorityClass, Domain, PrincipalKind, TrustPhase
from nightshift.gateway.chain import ChainTracker
from nightshift.governance.budgets import Budget
from nightshift.governance.containment import (
    ChainContext,
    ChainHeaderError,
    check_chain,
    to_header,
)

OWNER = Principal("olivia", "Olivia", PrincipalKind.HUMAN, contact="o@x.org")


def agent(name: str, **limits: int) -> AgentIdentity:
    bounds = Boundaries(domains=frozenset({Domain.APPLICATION}), **limits)
    return register_agent(
        name, OWNER, AuthorityClass.SUPERVISED, phase=TrustPhase.ASSIST, boundaries=bounds
    )


def presented(*path: str, calls: int = 50, max_depth: int = 8) -> str:
    return to_header(ChainContext("chain-0001", path, Budget(1000, 1.0, 100.0, calls), max_depth))


def test_a_call_without_a_chain_starts_one_per_session() -> None:
    tracker = ChainTracker()
    bot = agent("bot")
    first = tracker.context(bot, None, "session-1")
    again = tracker.context(bot, None, "session-1")
    other = tracker.context(bot, None, "session-2")
    assert first.path == ("bot",)
    assert first.chain_id == again.chain_id != other.chain_id


def test_the_calling_agent_is_appended_to_a_presented_chain() -> None:
    chain = ChainTracker().context(agent("bot"), presented("a", "b"), "s")
    assert chain.path == ("a", "b", "bot")
    assert chain.depth == 2


def test_a_presented_budget_is_capped_by_the_callers_boundaries() -> None:
    bot = agent("bot", max_tool_calls=3, max_depth=2)
    chain = ChainTracker().context(bot, presented("a", calls=50), "s")
    assert chain.remaining.tool_calls == 3
    assert chain.max_depth == 2


def test_resending_the_same_header_does_not_refill_the_hops_budget() -> None:
    tracker = ChainTracker()
    bot = agent("bot", max_tool_calls=2)
    header = presented("a")
    for _ in range(2):
        chain = tracker.context(bot, header, "s")
        assert check_chain("bot", bot.boundaries, chain, 0) is None
        tracker.charge(chain, calls=1)
    exhausted = tracker.context(bot, header, "s")
    refused = check_chain("bot", bot.boundaries, exhausted, 0)
    assert refused is not None and refused.reason.value == "budget_exhausted"


def test_a_loop_back_to_an_agent_is_a_cycle() -> None:
    bot = agent("bot")
    chain = ChainTracker().context(bot, presented("bot", "peer"), "s")
    refused = check_chain("bot", bot.boundaries, chain, 0)
    assert refused is not None and refused.reason.value == "chain_cycle"


def test_a_malformed_header_is_refused_not_repaired() -> None:
    with pytest.raises(ChainHeaderError):
        ChainTracker().context(agent("bot"), "v=1;id=chain-0001", "s")


def test_calls_are_counted_over_a_sliding_minute() -> None:
    now = [0.0]
    tracker = ChainTracker(clock=lambda: now[0])
    assert [tracker.note_call("bot") for _ in range(3)] == [0, 1, 2]
    now[0] = 61.0
    assert tracker.note_call("bot") == 0
    assert tracker.note_call("other") == 0
