"""Cross-domain follow-through: a change leading a multi-domain run is checked and tied."""

from __future__ import annotations

from nightshift.agent.reasoners.offline.belief import Belief, Key
from nightshift.agent.reasoners.offline.crossdomain import HOLD, pending, settle
from nightshift.agent.reasoners.offline.topology import Topology
from nightshift.agent.request import InvestigationRequest
from nightshift.domain.diagnosis import ResourceRef
from nightshift.domain.vocabulary import Tier

CHANGE = ResourceRef("Change", "NET-1")
POLICY_READING: Key = (CHANGE, "network-policy-change")
RULE_READING: Key = (CHANGE, "firewall-rule-change")
CALLER: Key = (ResourceRef("Deployment", "orders", "web"), "high-latency-dependency")
POOL: Key = (ResourceRef("Database", "pgbouncer", "web"), "connection-pool-exhaustion")
MULTI = InvestigationRequest("orders are slow", tier=Tier.MULTI_DOMAIN)


def _board() -> dict[Key, Belief]:
    return {
        POLICY_READING: Belief(0.92, ("e2",), ("policy updated",), "change before onset"),
        RULE_READING: Belief(0.5, ("e2",), ("rule synced",), "change before onset"),
        CALLER: Belief(0.4, ("e5",), ("i/o timeout",), "signals: timeout", RULE_READING),
        POOL: Belief(0.5, ("e9",), ("cl_waiting 40",), "signals: pool-exhausted"),
    }


def test_the_symptoms_hang_under_the_leading_change_down_to_the_pool() -> None:
    board = _board()
    assert settle(MULTI, Topology(), board, lambda _b: False, holds_left=True)
    assert board[CALLER].parent == POLICY_READING  # one change, one chain
    assert board[POOL].parent == CALLER  # the stalled caller drains the pool
    assert board[POLICY_READING].confidence == 0.92  # nothing pending: not held


def test_the_leading_change_is_held_while_its_checks_are_due() -> None:
    board = _board()
    settle(MULTI, Topology(), board, lambda _b: True, holds_left=True)
    assert board[POLICY_READING].confidence == HOLD
    board = _board()
    # the cycle budget comes first
    settle(MULTI, Topology(), board, lambda _b: True, holds_left=False)
    assert board[POLICY_READING].confidence == 0.92


def test_the_checks_due_are_the_rules_on_the_symptomatic_workload_and_the_datastores() -> None:
    topo = Topology()
    topo.depends["orders"] = {("pgbouncer.web.svc", 6432)}
    due = {
        (c.call.name, tuple(sorted(c.call.params.items())))
        for c in pending(MULTI, topo, _board(), set())
    }
    assert ("firewall_rules", (("target", "orders"),)) in due
    assert ("db_stats", (("database", "pgbouncer"),)) in due


def test_a_single_domain_run_is_left_alone() -> None:
    board = _board()
    single = InvestigationRequest("orders are slow")
    assert not settle(single, Topology(), board, lambda _b: True, holds_left=True)
    assert board == _board()
    assert pending(single, Topology(), board, set()) == []


def test_the_pool_hangs_under_the_caller_whose_dependency_the_change_cut() -> None:
    # Every caller of a starved pool turns slow, the bystander here even more
    # confidently; the one that starved it is the caller of the blocked service.
    bystander: Key = (ResourceRef("Deployment", "catalog", "web"), "high-latency-dependency")
    blocked: Key = (ResourceRef("Component", "risk", "web"), "network-policy-blocking")
    board = _board()
    board[bystander] = Belief(0.6, ("e6",), ("p99 high",), "signals: latency", RULE_READING)
    board[blocked] = Belief(0.3, ("e7",), ("dropped",), "signals: blocked", RULE_READING)
    topo = Topology()
    topo.depends["orders"] = {("pgbouncer.web.svc", 6432), ("risk.web.svc", 8443)}
    topo.depends["catalog"] = {("pgbouncer.web.svc", 6432), ("search.web.svc", 9200)}
    settle(MULTI, topo, board, lambda _b: False, holds_left=True)
    assert board[POOL].parent == CALLER
    # without the map, the better attested caller: its own timeouts beside the alert
    board = _board()
    board[bystander] = Belief(0.6, ("e6",), ("p99 high",), "signals: latency", RULE_READING)
    board[CALLER] = Belief(0.4, ("e5", "e8"), ("i/o timeout", "p99 high"), "signals: ...",
                           RULE_READING)  # fmt: skip
    settle(MULTI, Topology(), board, lambda _b: False, holds_left=True)
    assert board[POOL].parent == CALLER
