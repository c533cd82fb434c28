"""Drift containment: chain context, its HTTP header, boundaries, breakers, kill switch.

Every investigation and tool call carries a chain context (chain id, path of
agents, remaining budget, the chain's depth limit). It crosses agent -> tool
-> agent hops as the ``Nightshift-Chain`` header, which is parsed strictly: a
malformed header is refused, never repaired. The breakers here are pure
checks; ``policy.decide`` calls them before anything else about the request.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace

from nightshift.domain.agents import AGENT_NAME, Boundaries
from nightshift.domain.vocabulary import Tier
from nightshift.governance.budgets import Budget, BudgetError
from nightshift.governance.decisions import Decision, FollowUp, ReasonCode, deny

HEADER_NAME = "Nightshift-Chain"
HEADER_VERSION = "1"
MAX_HEADER_LENGTH = 4096
MAX_CHAIN_DEPTH = 64  # hard ceiling whatever a boundary says

_CHAIN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{7,63}$")
_INT = re.compile(r"^(?:0|[1-9][0-9]{0,17})$")
_DEC = re.compile(r"^(?:0|[1-9][0-9]{0,14})(?:\.[0-9]{1,6})?$")
_HEADER_KEYS = ("v", "id", "depth", "path", "max-depth", "tokens", "cost", "wall", "calls")


class ChainHeaderError(ValueError):
    """A ``Nightshift-Chain`` header value was malformed; the request must be refused."""


@dataclass(frozen=True, slots=True)
class ChainContext:
    """Where a call sits in a chain of agents and what the chain may still spend."""

    chain_id: str
    path: tuple[str, ...]
    remaining: Budget
    max_depth: int

    @property
    def depth(self) -> int:
        return len(self.path) - 1

    @property
    def agent(self) -> str:
        return self.path[-1]

    def descend(self, child: str, share: Budget | None = None) -> ChainContext:
        """The context for a child hop. Its budget is carved from this remainder.

        Cycles and depth are not refused here (``decide`` does that, with a
        reason); only a share larger than what is left is impossible.
        """
        if share is not None and not self.remaining.covers(share):
            raise BudgetError("a child's budget share cannot exceed the chain's remainder")
        return replace(self, path=(*self.path, child), remaining=share or self.remaining)

    def charged(
        self,
        *,
        tokens: int = 0,
        cost_usd: float = 0.0,
        wall_seconds: float = 0.0,
        tool_calls: int = 0,
    ) -> ChainContext:
        """The same context after spending (raises ``BudgetExhaustedError`` past zero)."""
        remaining = self.remaining.spend(
            tokens=tokens, cost_usd=cost_usd, wall_seconds=wall_seconds, tool_calls=tool_calls
        )
        # Built directly, not with replace(): this runs on every governed tool call.
        return ChainContext(self.chain_id, self.path, remaining, self.max_depth)


def start_chain(chain_id: str, agent: str, boundaries: Boundaries) -> ChainContext:
    """The root context of a new chain, limited by the starting agent's boundaries."""
    if not _CHAIN_ID.match(chain_id):
        raise ChainHeaderError(f"chain id {chain_id!r} must be 8-64 characters [A-Za-z0-9._-]")
    return ChainContext(
        chain_id=chain_id,
        path=(agent,),
        remaining=Budget.from_boundaries(boundaries),
        max_depth=min(boundaries.max_depth, MAX_CHAIN_DEPTH),
    )


def find_cycle(path: tuple[str, ...]) -> str | None:
    """The first agent that reappears in its own chain, if any."""
    seen: set[str] = set()
    for name in path:
        if name in seen:
            return name
        seen.add(name)
    return None


def _decimal(value: float) -> str:
    # Round down so that a budget never grows by crossing a hop.
    text = f"{math.floor(value * 1_000_000) / 1_000_000:.6f}".rstrip("0").rstrip(".")
    return text or "0"


def to_header(chain: ChainContext) -> str:
    """The ``Nightshift-Chain`` header value for a context."""
    b = chain.remaining
    return (
        f"v={HEADER_VERSION};id={chain.chain_id};depth={chain.depth};"
        f"path={','.join(chain.path)};max-depth={chain.max_depth};"
        f"tokens={b.tokens};cost={_decimal(b.cost_usd)};wall={_decimal(b.wall_seconds)};"
        f"calls={b.tool_calls}"
    )


def parse_header(value: str) -> ChainContext:
    """Parse a header value strictly: fixed keys in fixed order, no extras, no repairs."""
    if len(value) > MAX_HEADER_LENGTH:
        raise ChainHeaderError(f"{HEADER_NAME} header longer than {MAX_HEADER_LENGTH} characters")
    parts = value.strip(" \t").split(";")
    if len(parts) != len(_HEADER_KEYS):
        raise ChainHeaderError(
            f"{HEADER_NAME} header must have {len(_HEADER_KEYS)} fields "
            f"({';'.join(_HEADER_KEYS)}), got {len(parts)}"
        )
    fields: dict[str, str] = {}
    for expected, part in zip(_HEADER_KEYS, parts, strict=True):
        key, sep, val = part.partition("=")
        if not sep or key != expected:
            raise ChainHeaderError(
                f"{HEADER_NAME} header: expected field {expected!r}, got {part!r}"
            )
        fields[key] = val
    if fields["v"] != HEADER_VERSION:
        raise ChainHeaderError(f"{HEADER_NAME} header version {fields['v']!r} is not supported")
    if not _CHAIN_ID.match(fields["id"]):
        raise ChainHeaderError(f"{HEADER_NAME} header: malformed chain id {fields['id']!r}")
    path = tuple(fields["path"].split(","))
    for name in path:
        if not AGENT_NAME.match(name):
            raise ChainHeaderError(f"{HEADER_NAME} header: malformed agent name {name!r} in path")
    for key in ("depth", "max-depth", "tokens", "calls"):
        if not _INT.match(fields[key]):
            raise ChainHeaderError(f"{HEADER_NAME} header: {key} must be a non-negative integer")
    for key in ("cost", "wall"):
        if not _DEC.match(fields[key]):
            raise ChainHeaderError(f"{HEADER_NAME} header: {key} must be a non-negative decimal")
    depth, max_depth = int(fields["depth"]), int(fields["max-depth"])
    if depth != len(path) - 1:
        raise ChainHeaderError(
            f"{HEADER_NAME} header: depth {depth} does not match a path of {len(path)} agents"
        )
    if not 1 <= max_depth <= MAX_CHAIN_DEPTH:
        raise ChainHeaderError(f"{HEADER_NAME} header: max-depth must be 1..{MAX_CHAIN_DEPTH}")
    if len(path) > MAX_CHAIN_DEPTH + 1:
        raise ChainHeaderError(f"{HEADER_NAME} header: path longer than {MAX_CHAIN_DEPTH + 1}")
    return ChainContext(
        chain_id=fields["id"],
        path=path,
        remaining=Budget(
            tokens=int(fields["tokens"]),
            cost_usd=float(fields["cost"]),
            wall_seconds=float(fields["wall"]),
            tool_calls=int(fields["calls"]),
        ),
        max_depth=max_depth,
    )


@dataclass(frozen=True, slots=True)
class KillSwitch:
    """Engaged globally or for named agents; an input to every decision."""

    global_engaged: bool = False
    agents: frozenset[str] = frozenset()
    reason: str = ""

    def check(self, agent: str) -> Decision | None:
        if self.global_engaged:
            return deny(
                ReasonCode.KILL_SWITCH_GLOBAL,
                f"global kill switch engaged{': ' + self.reason if self.reason else ''}",
                follow_up=FollowUp.STOP_CHAIN,
            )
        if agent in self.agents:
            return deny(
                ReasonCode.KILL_SWITCH_AGENT,
                f"kill switch engaged for agent {agent!r}",
                follow_up=FollowUp.STOP_CHAIN,
            )
        return None


KILL_SWITCH_OFF = KillSwitch()


def check_chain(
    agent: str,
    boundaries: Boundaries,
    chain: ChainContext,
    calls_last_minute: int,
) -> Decision | None:
    """The breaker checks every request passes: ``None`` when the chain may go on."""
    path = chain.path
    if path[-1] != agent:
        return deny(
            ReasonCode.CHAIN_MISMATCH,
            f"chain {chain.chain_id} ends at {path[-1]!r}, not at the calling agent {agent!r}",
            follow_up=FollowUp.STOP_CHAIN,
        )
    if len(path) > 1 and len(set(path)) != len(path):
        return deny(
            ReasonCode.CHAIN_CYCLE,
            f"agent {find_cycle(path)!r} reappears in its own chain {' -> '.join(path)}",
            follow_up=FollowUp.STOP_CHAIN,
        )
    if len(path) - 1 > chain.max_depth or len(path) - 1 > boundaries.max_depth:
        limit = min(chain.max_depth, boundaries.max_depth)
        return deny(
            ReasonCode.CHAIN_DEPTH_EXCEEDED,
            f"chain depth {len(path) - 1} exceeds the limit {limit}",
            follow_up=FollowUp.STOP_CHAIN,
        )
    r = chain.remaining
    if r.tokens <= 0 or r.cost_usd <= 0 or r.wall_seconds <= 0 or r.tool_calls <= 0:
        dimension = r.exhausted()
        assert dimension is not None
        return deny(
            ReasonCode.BUDGET_EXHAUSTED,
            f"chain {chain.chain_id} has no {dimension.value} budget left",
            follow_up=FollowUp.STOP_CHAIN,
        )
    if calls_last_minute >= boundaries.max_calls_per_minute:
        return deny(
            ReasonCode.RATE_LIMITED,
            f"{calls_last_minute} calls in the last minute reach the limit "
            f"{boundaries.max_calls_per_minute}",
            follow_up=FollowUp.STOP_CHAIN,
        )
    return None


def check_delegation(
    child: str, boundaries: Boundaries, chain: ChainContext, children_spawned: int
) -> Decision | None:
    """May the current agent start a child hop to ``child``? Stops a runaway before it runs."""
    if child in chain.path:
        return deny(
            ReasonCode.CHAIN_CYCLE,
            f"delegating to {child!r} would close a cycle: {' -> '.join((*chain.path, child))}",
            follow_up=FollowUp.STOP_CHAIN,
        )
    limit = min(chain.max_depth, boundaries.max_depth)
    if len(chain.path) > limit:
        return deny(
            ReasonCode.CHAIN_DEPTH_EXCEEDED,
            f"a child hop would reach depth {len(chain.path)}, over the limit {limit}",
            follow_up=FollowUp.STOP_CHAIN,
        )
    if children_spawned >= boundaries.max_fan_out:
        return deny(
            ReasonCode.FAN_OUT_EXCEEDED,
            f"{children_spawned} child hops already started; fan-out limit is "
            f"{boundaries.max_fan_out}",
            follow_up=FollowUp.STOP_CHAIN,
        )
    return None


_DEPTH_DEFAULTS = {Tier.SINGLE_DOMAIN: 8, Tier.MULTI_DOMAIN: 15}


def reasoning_depth_limit(tier: Tier, p95_successful_cycles: float | None = None) -> int:
    """Hypothesis-evaluation cycles before the reasoning breaker trips.

    The tier default, or twice the p95 cycle count of successful runs in the
    tier, whichever comes first (never below one cycle).
    """
    limit = _DEPTH_DEFAULTS[tier]
    if p95_successful_cycles is not None and p95_successful_cycles > 0:
        limit = min(limit, max(1, math.ceil(2 * p95_successful_cycles)))
    return limit
