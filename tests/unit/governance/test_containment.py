"""Drift containment: the chain header, runaway-chain breakers, boundary validation."""

from __future__ import annotations

import pytest

from nightshift.domain.agents import Boundaries
from nightshift.domain.vocabulary import Domain, Tier
from nightshift.governance.boundaries import (
    BoundaryConflictError,
    require_valid_boundaries,
    validate_boundaries,
)
from nightshift.governance.budgets import Budget, BudgetError
from nightshift.governance.containment import (
    ChainContext,
    ChainHeaderError,
    find_cycle,
    parse_header,
    reasoning_depth_limit,
    start_chain,
    to_header,
)
from nightshift.governance.decisions import Outcome, ReasonCode
from nightshift.governance.policy import DelegationRequest, PolicyContext, ToolRequest, decide

from .builders import CATALOG, agent, wide_boundaries

READ = ToolRequest(tool="kubectl_get", domain=Domain.KUBERNETES, namespace="shop")
BUDGET = Budget(tokens=10_000, cost_usd=1.5, wall_seconds=300.0, tool_calls=40)


def chain(*path: str, remaining: Budget = BUDGET, max_depth: int = 4) -> ChainContext:
    return ChainContext("chain-0001", path, remaining, max_depth)


def test_header_round_trips() -> None:
    ctx = chain("triage", "netdiag", remaining=Budget(1234, 0.25, 12.5, 7))
    value = to_header(ctx)
    assert value == (
        "v=1;id=chain-0001;depth=1;path=triage,netdiag;max-depth=4;"
        "tokens=1234;cost=0.25;wall=12.5;calls=7"
    )
    assert parse_header(value) == ctx


def test_header_rounds_budget_down_so_it_never_grows_across_a_hop() -> None:
    ctx = chain("triage", remaining=Budget(1, 0.1234567, 0.9999999, 1))
    parsed = parse_header(to_header(ctx))
    assert parsed.remaining.cost_usd <= ctx.remaining.cost_usd
    assert parsed.remaining.wall_seconds <= ctx.remaining.wall_seconds


GOOD = "v=1;id=chain-0001;depth=1;path=triage,netdiag;max-depth=4;tokens=1;cost=0;wall=1;calls=1"


@pytest.mark.parametrize(
    "value",
    [
        "",
        "garbage",
        GOOD.replace("v=1", "v=2"),
        GOOD.replace("depth=1", "depth=2"),  # depth disagrees with path
        GOOD.replace("depth=1", "depth=-1"),
        GOOD.replace("tokens=1", "tokens=1e9"),
        GOOD.replace("cost=0", "cost=nan"),
        GOOD.replace("cost=0", "cost=-1"),
        GOOD.replace("path=triage,netdiag", "path=Triage,netdiag"),
        GOOD.replace("path=triage,netdiag", "path=triage,,netdiag"),
        GOOD.replace("id=chain-0001", "id=short"),
        GOOD.replace("id=chain-0001", "id=chain 0001"),
        GOOD.replace("max-depth=4", "max-depth=0"),
        GOOD + ";extra=1",
        GOOD.replace("v=1;id=chain-0001", "id=chain-0001;v=1"),  # reordered keys
        GOOD.replace("calls=1", "calls=01"),
        GOOD.replace(";", "; "),
        "v=1;" + "x" * 5000,
    ],
)
def test_malformed_header_is_rejected(value: str) -> None:
    with pytest.raises(ChainHeaderError):
        parse_header(value)


def test_descend_appends_child_and_carves_budget() -> None:
    root = start_chain("chain-0001", "triage", wide_boundaries())
    child = root.descend("netdiag", Budget(100, 0.1, 10, 5))
    assert child.path == ("triage", "netdiag")
    assert child.depth == 1
    assert child.remaining == Budget(100, 0.1, 10, 5)
    with pytest.raises(BudgetError):
        root.descend("netdiag", Budget(10**9, 0.1, 10, 5))


def test_cycle_is_found() -> None:
    assert find_cycle(("a", "b", "a")) == "a"
    assert find_cycle(("a", "b", "c")) is None


def _ctx(path: tuple[str, ...], **kw: object) -> PolicyContext:
    return PolicyContext(chain=chain(*path, **kw), catalog=CATALOG)  # type: ignore[arg-type]


def test_runaway_chain_a_b_a_is_stopped_before_the_hop() -> None:
    b = agent(name="b")
    decision = decide(b, DelegationRequest(child="a"), _ctx(("a", "b")))
    assert decision.outcome is Outcome.DENY
    assert decision.reason is ReasonCode.CHAIN_CYCLE
    assert decision.stops_chain


def test_runaway_chain_a_b_a_is_stopped_at_the_first_call_if_it_arrived() -> None:
    a = agent(name="a")
    decision = decide(a, READ, _ctx(("a", "b", "a")))
    assert decision.reason is ReasonCode.CHAIN_CYCLE
    assert decision.stops_chain


def test_chain_deeper_than_limit_is_stopped_within_one_hop() -> None:
    c = agent(name="c", boundaries=wide_boundaries(max_depth=2))
    at_limit = _ctx(("a", "b", "c"))
    assert decide(c, READ, at_limit).allowed
    refused = decide(c, DelegationRequest(child="d"), at_limit)
    assert refused.reason is ReasonCode.CHAIN_DEPTH_EXCEEDED
    d = agent(name="d", boundaries=wide_boundaries(max_depth=2))
    assert decide(d, READ, _ctx(("a", "b", "c", "d"))).reason is ReasonCode.CHAIN_DEPTH_EXCEEDED


def test_chain_depth_limit_from_the_chain_binds_even_a_lenient_agent() -> None:
    lenient = agent(name="c", boundaries=wide_boundaries(max_depth=10))
    decision = decide(lenient, READ, _ctx(("a", "b", "c"), max_depth=1))
    assert decision.reason is ReasonCode.CHAIN_DEPTH_EXCEEDED


def test_exhausted_budget_stops_the_chain_at_the_next_call() -> None:
    a = agent(name="a")
    spent = Budget(tokens=0, cost_usd=1.0, wall_seconds=10, tool_calls=3)
    decision = decide(a, READ, _ctx(("a",), remaining=spent))
    assert decision.reason is ReasonCode.BUDGET_EXHAUSTED
    assert "tokens" in decision.message
    assert decision.stops_chain


def test_fan_out_limit_stops_further_children() -> None:
    a = agent(name="a", boundaries=wide_boundaries(max_fan_out=2))
    ctx = PolicyContext(chain=chain("a"), catalog=CATALOG, children_spawned=2)
    assert decide(a, DelegationRequest(child="b"), ctx).reason is ReasonCode.FAN_OUT_EXCEEDED
    ok = PolicyContext(chain=chain("a"), catalog=CATALOG, children_spawned=1)
    assert decide(a, DelegationRequest(child="b"), ok).allowed


def test_context_of_another_agent_is_refused() -> None:
    a = agent(name="a")
    assert decide(a, READ, _ctx(("x", "y"))).reason is ReasonCode.CHAIN_MISMATCH


def test_consistent_boundaries_validate_cleanly() -> None:
    assert validate_boundaries(wide_boundaries(), CATALOG) == ()
    assert require_valid_boundaries(Boundaries(), CATALOG) == Boundaries()


def test_max_depth_below_one_is_a_contradiction() -> None:
    problems = validate_boundaries(wide_boundaries(max_depth=0), CATALOG)
    assert any("max_depth" in p for p in problems)


def test_empty_domain_set_with_allowed_actions_is_a_contradiction() -> None:
    b = Boundaries(namespaces=frozenset({"shop"}), action_types=frozenset({"restart-pod"}))
    with pytest.raises(BoundaryConflictError) as err:
        require_valid_boundaries(b, CATALOG)
    assert "domain set is empty" in str(err.value)


def test_action_outside_allowed_domains_and_unknown_actions_are_reported() -> None:
    b = wide_boundaries(
        domains=frozenset({Domain.KUBERNETES}),
        action_types=frozenset({"revert-firewall-rule", "format-disk"}),
    )
    problems = validate_boundaries(b, CATALOG)
    assert any("revert-firewall-rule" in p and "network" in p for p in problems)
    assert any("format-disk" in p for p in problems)


def test_namespaced_actions_without_namespaces_and_bad_limits_are_reported() -> None:
    b = wide_boundaries(
        namespaces=frozenset(), max_fan_out=-1, max_calls_per_minute=0, max_tokens=0
    )
    problems = " | ".join(validate_boundaries(b, CATALOG))
    for needle in ("no namespace is allowed", "max_fan_out", "max_calls_per_minute", "max_tokens"):
        assert needle in problems


def test_invalid_namespace_name_is_reported() -> None:
    problems = validate_boundaries(wide_boundaries(namespaces=frozenset({"Shop_1"})), CATALOG)
    assert any("Shop_1" in p for p in problems)


@pytest.mark.parametrize(
    ("tier", "p95", "limit"),
    [
        (Tier.SINGLE_DOMAIN, None, 8),
        (Tier.MULTI_DOMAIN, None, 15),
        (Tier.SINGLE_DOMAIN, 3, 6),
        (Tier.MULTI_DOMAIN, 9, 15),
        (Tier.SINGLE_DOMAIN, 0.2, 1),
    ],
)
def test_reasoning_depth_breaker_takes_whichever_limit_comes_first(
    tier: Tier, p95: float | None, limit: int
) -> None:
    assert reasoning_depth_limit(tier, p95) == limit
