"""Chains across the gateway: where a call sits, what it may still spend, how fast.

A call that presents no ``Nightshift-Chain`` (HTTP header or ``_meta`` key) starts
a chain for its MCP session, so one session's calls share one budget. A call that
presents one was made by an agent that a forwarded call reached: the gateway adds
the calling agent to the path (never trusting it to add itself), so a loop of
agents calling each other grows the path until the breaker's depth or cycle check
trips. The presented budget is capped by the caller's own boundaries, and what a
hop spends is remembered per (chain, path): re-sending the same header does not
refill it.
"""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import replace
from typing import TypeVar

from nightshift.domain.agents import AgentIdentity
from nightshift.governance.budgets import Budget
from nightshift.governance.containment import ChainContext, parse_header, start_chain

_MAX_REMEMBERED = 10_000  # chains / sessions / agents kept in memory (oldest dropped)
_WINDOW_SECONDS = 60.0
K = TypeVar("K")
V = TypeVar("V")


class ChainTracker:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._sessions: OrderedDict[str, str] = OrderedDict()  # session key -> chain id
        self._spent: OrderedDict[tuple[str, tuple[str, ...]], Budget] = OrderedDict()
        self._calls: OrderedDict[str, deque[float]] = OrderedDict()

    def _chain_id(self, session: str) -> str:
        chain_id = self._sessions.get(session)
        if chain_id is None:
            chain_id = "gw-" + secrets.token_hex(12)
            self._sessions[session] = chain_id
            _trim(self._sessions)
        return chain_id

    def context(self, agent: AgentIdentity, header: str | None, session: str) -> ChainContext:
        """The chain this call belongs to (raises ``ChainHeaderError`` on a bad header)."""
        bounds = agent.boundaries
        if header is None:
            chain = start_chain(self._chain_id(session), agent.name, bounds)
        else:
            presented = parse_header(header)
            cap = Budget.from_boundaries(bounds)
            chain = replace(
                presented.descend(agent.name),
                remaining=presented.remaining.capped(cap),
                max_depth=min(presented.max_depth, bounds.max_depth),
            )
        left = self._spent.get((chain.chain_id, chain.path))
        if left is not None:
            chain = replace(chain, remaining=chain.remaining.capped(left))
        return chain

    def charge(
        self, chain: ChainContext, *, calls: int = 0, wall_seconds: float = 0.0
    ) -> ChainContext:
        """The chain after spending, remembered for the hop's next call. Never past
        zero: the breaker refuses the next call instead of this one failing."""
        r = chain.remaining
        spent = chain.charged(
            tool_calls=min(calls, r.tool_calls), wall_seconds=min(wall_seconds, r.wall_seconds)
        )
        self._spent[(chain.chain_id, chain.path)] = spent.remaining
        self._spent.move_to_end((chain.chain_id, chain.path))
        _trim(self._spent)
        return spent

    def note_call(self, agent: str) -> int:
        """Count a call of ``agent``; returns how many it made in the minute before."""
        now = self._clock()
        calls = self._calls.setdefault(agent, deque())
        self._calls.move_to_end(agent)
        while calls and calls[0] <= now - _WINDOW_SECONDS:
            calls.popleft()
        before = len(calls)
        calls.append(now)
        _trim(self._calls)
        return before


def _trim(table: OrderedDict[K, V]) -> None:
    while len(table) > _MAX_REMEMBERED:
        table.popitem(last=False)
