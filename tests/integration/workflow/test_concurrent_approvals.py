"""Concurrent decisions on one approval request: exactly one wins and the
action runs once, on SQLite (embedded) and PostgreSQL (production)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from nightshift.domain.access import Caller
from nightshift.domain.diagnosis import ResourceRef
from nightshift.domain.vocabulary import PrincipalKind, Role
from nightshift.services.concealment import UNCONCEALED
from nightshift.services.errors import Conflict
from nightshift.services.investigations import SubmitRequest
from nightshift.services.proposals import ProposalInput
from tests.support.control_plane import World
from tests.unit.workflow.flow import BOUNDARIES

FIX = ResourceRef("Change", "CHG-20417")


def _pending_request(world: World) -> str:
    c = world.container
    c.agents.register(
        "fixer",
        owner="lead",
        authority_class="supervised",
        trust_phase="limited-remediation",
        boundaries=BOUNDARIES,
    )
    submitter = Caller("operator", PrincipalKind.HUMAN, frozenset({Role.OPERATOR}))
    inv = c.investigations.submit(SubmitRequest("fixer", scenario="two-am-cascade"), submitter)
    worker = Caller(f"worker:{inv.id}", PrincipalKind.SERVICE, frozenset(), investigation_id=inv.id)
    [view] = c.proposals.propose(
        inv.id, worker, [ProposalInput("revert-firewall-rule", FIX, confidence=0.8)]
    )
    assert view.status == "pending_approval"
    return view.id


def _operators(world: World, n: int) -> list[Caller]:
    p = world.container.principals
    callers = []
    for i in range(n):
        p.create_user(
            f"op{i}",
            kind=PrincipalKind.HUMAN,
            roles=frozenset({Role.OPERATOR}),
            contact=f"op{i}@example.org",
        )
        found = p.authenticate(p.create_token(f"op{i}"))
        assert found is not None
        callers.append(found)
    return callers


def test_concurrent_approvals_of_one_request_have_exactly_one_winner(world: World) -> None:
    pid = _pending_request(world)
    callers = _operators(world, 6)
    barrier = threading.Barrier(len(callers))
    approvals = world.container.approvals

    def approve(caller: Caller) -> str:
        barrier.wait()
        try:
            return approvals.approve(pid, caller, reason="go").status
        except Conflict:
            return "conflict"

    with ThreadPoolExecutor(len(callers)) as pool:
        outcomes = list(pool.map(approve, callers))
    assert sorted(outcomes) == ["conflict"] * 5 + ["executed"]
    final = world.container.proposals.get(pid, UNCONCEALED)
    assert final.status == "executed"
    assert final.result is not None and final.result["verified"] is True
    audit = world.container.audit.recent(500)
    assert [r.entry.decision for r in audit].count("approved") == 1
    assert [r.entry.decision for r in audit].count("executed") == 1


def test_approve_racing_reject_leaves_one_decision(world: World) -> None:
    pid = _pending_request(world)
    approver, rejecter = _operators(world, 2)
    barrier = threading.Barrier(2)

    def approve() -> str:
        barrier.wait()
        try:
            return world.container.approvals.approve(pid, approver).status
        except Conflict:
            return "conflict"

    def reject() -> str:
        barrier.wait()
        try:
            return world.container.approvals.reject(pid, rejecter, reason="not now").status
        except Conflict:
            return "conflict"

    with ThreadPoolExecutor(2) as pool:
        outcomes = sorted(f.result() for f in [pool.submit(approve), pool.submit(reject)])
    assert outcomes in (["conflict", "executed"], ["conflict", "rejected"])
    assert world.container.proposals.get(pid, UNCONCEALED).status in ("executed", "rejected")


def test_execution_is_claimed_once_however_often_it_is_triggered(world: World) -> None:
    pid = _pending_request(world)
    [approver] = _operators(world, 1)
    world.container.proposals.on_approved = None  # trigger execution by hand below
    world.container.approvals.approve(pid, approver)
    barrier = threading.Barrier(4)

    def run(_: int) -> bool:
        barrier.wait()
        return world.container.execution.run(pid) is not None

    with ThreadPoolExecutor(4) as pool:
        ran = list(pool.map(run, range(4)))
    assert ran.count(True) == 1
    assert world.container.proposals.get(pid, UNCONCEALED).status == "executed"
