"""The human-review queue is one queue: every kind of item goes in and out the same way."""

from __future__ import annotations

from sqlalchemy import select

from nightshift.services import review_queue
from nightshift.services.review_queue import ReviewKind
from nightshift.store.tables import AgentRow, ReviewItemRow
from tests.support.control_plane import World
from tests.unit.workflow.flow import agent


def _agent_id(world: World, name: str) -> str:
    with world.container.db.read() as s:
        found = s.scalar(select(AgentRow.id).where(AgentRow.name == name))
    assert found is not None
    return found


def test_an_item_goes_in_open_and_is_seen_by_the_stewards_queue(world: World) -> None:
    agent(world, "queue-keeper", "assist")
    agent_id = _agent_id(world, "queue-keeper")
    with world.container.db.transaction() as s:
        item = review_queue.enqueue(
            s,
            ReviewKind.SCOPE_WIDENING,
            agent_id=agent_id,
            summary="asked beyond its boundaries",
            payload={"tool": "kubectl_get"},
            investigation_id="inv-1",
        )
    open_items = world.container.stewardship.reviews(kind=ReviewKind.SCOPE_WIDENING.value)
    assert [(i.id, i.status, i.payload) for i in open_items] == [
        (item, "open", {"tool": "kubectl_get"})
    ]
    with world.container.db.read() as s:
        assert review_queue.queued(s, ReviewKind.SCOPE_WIDENING, "inv-1")
        assert not review_queue.queued(s, ReviewKind.SHADOW_REVIEW, "inv-1")


def test_closing_an_agents_open_items_of_one_kind_leaves_the_others_open(world: World) -> None:
    agent(world, "queue-keeper", "assist")
    agent_id = _agent_id(world, "queue-keeper")
    with world.container.db.transaction() as s:
        for _ in range(2):
            review_queue.enqueue(
                s, ReviewKind.DEMOTION_REVIEW, agent_id=agent_id, summary="demoted", payload={}
            )
        other = review_queue.enqueue(
            s, ReviewKind.GATEWAY_PROPOSAL, agent_id=agent_id, summary="proposed", payload={}
        )
    with world.container.db.transaction() as s:
        closed = review_queue.close_open(
            s, ReviewKind.DEMOTION_REVIEW, agent_id, status="done", by="lead", decision="ok"
        )
    assert closed == 2
    with world.container.db.read() as s:
        rows = {r.id: r for r in s.scalars(select(ReviewItemRow))}
    demotions = [r for r in rows.values() if r.kind == ReviewKind.DEMOTION_REVIEW.value]
    assert {(r.status, r.decided_by, r.decision) for r in demotions} == {("done", "lead", "ok")}
    assert all(r.decided_at is not None for r in demotions)
    assert rows[other].status == "open"
