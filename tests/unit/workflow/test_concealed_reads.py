"""The services decide what a reader sees of unreviewed shadow output: every
caller-facing read takes the caller, so no route or page can forget to hide it."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from nightshift.domain.access import Caller
from nightshift.domain.vocabulary import PrincipalKind, Role, TrustPhase
from nightshift.services.concealment import CONCEALED, HIDDEN_EVENT_KINDS, UNCONCEALED
from nightshift.services.errors import NotFound
from tests.support.control_plane import World
from tests.unit.workflow.flow import agent, finish, propose, start

OPERATOR = Caller("op", PrincipalKind.HUMAN, frozenset({Role.OPERATOR}))
LEAD = Caller("lead", PrincipalKind.HUMAN, frozenset({Role.OPS_LEAD}))
ADMIN = Caller("root", PrincipalKind.HUMAN, frozenset({Role.ADMIN}))
DIAGNOSIS = [
    {"kind": "hypothesis.created", "data": {"id": "H1", "fault": "firewall-rule-change"}},
    {"kind": "tool.requested", "data": {"tool": "kubectl_get"}},
    {"kind": "hypothesis.confirmed", "data": {"id": "H1"}},
]


@pytest.fixture
def shadow_run(client: TestClient, world: World) -> tuple[str, str]:
    """A shadow investigation that ended with a diagnosis and one proposal, unreviewed."""
    agent(world, "quiet", "shadow")
    inv_id, worker = start(client, world, "quiet")
    posted = client.post(
        f"/v1/investigations/{inv_id}/worker/events", json={"events": DIAGNOSIS}, headers=worker
    )
    assert posted.status_code == 200, posted.text
    proposal_id = str(propose(client, inv_id, worker)["id"])
    finish(client, inv_id, worker)
    return inv_id, proposal_id


def _review(client: TestClient, world: World, inv_id: str) -> None:
    [item] = client.get("/v1/reviews/shadow", headers=world.auth("lead")).json()
    assert item["investigation_id"] == inv_id
    done = client.post(f"/v1/reviews/shadow/{item['id']}/review", headers=world.auth("lead"))
    assert done.status_code == 200, done.text


def test_an_investigation_read_hides_the_diagnosis_from_all_but_admins(
    world: World, shadow_run: tuple[str, str]
) -> None:
    inv_id, _ = shadow_run
    svc = world.container.investigations
    for reader in (OPERATOR, LEAD):
        seen = svc.get(inv_id, reader)
        assert (seen.result, seen.reason) == (None, CONCEALED)
        assert seen.trust_phase is TrustPhase.SHADOW
        assert svc.conceals(inv_id, reader)
        [listed] = svc.search(reader).items
        assert (listed.id, listed.result, listed.reason) == (inv_id, None, CONCEALED)
    for reader in (ADMIN, UNCONCEALED):
        whole = svc.get(inv_id, reader)
        assert whole.result is not None and whole.result["root_causes"]
        assert whole.reason == "done"
        assert not svc.conceals(inv_id, reader)
        assert svc.search(reader).items[0].result is not None


def test_an_event_read_leaves_out_the_diagnosis_and_the_final_reason(
    world: World, shadow_run: tuple[str, str]
) -> None:
    inv_id, _ = shadow_run
    svc = world.container.investigations
    whole = svc.events(inv_id, ADMIN)
    seen = svc.events(inv_id, OPERATOR)
    assert {e.kind for e in whole} & HIDDEN_EVENT_KINDS  # there was a diagnosis to hide
    assert [e.seq for e in seen] == [e.seq for e in whole if e.kind not in HIDDEN_EVENT_KINDS]
    assert seen[-1].data == {"status": "succeeded", "reason": CONCEALED}
    assert whole[-1].data == {"status": "succeeded", "reason": "done"}
    # The limit counts what the reader sees, so a follower's cursor always moves on.
    first_two = svc.events(inv_id, OPERATOR, limit=2)
    assert [e.seq for e in first_two] == [e.seq for e in seen[:2]]
    after = svc.events(inv_id, OPERATOR, after=first_two[-1].seq, limit=len(seen))
    assert [e.seq for e in after] == [e.seq for e in seen[2:]]


def test_shadow_proposals_show_with_their_investigation_once_it_is_reviewed(
    client: TestClient, world: World, shadow_run: tuple[str, str]
) -> None:
    inv_id, proposal_id = shadow_run
    proposals = world.container.proposals
    assert proposals.of_investigation(inv_id, OPERATOR) == []
    [mine] = proposals.of_investigation(inv_id, ADMIN)
    assert (mine.id, mine.phase, mine.visible) == (proposal_id, TrustPhase.SHADOW, False)
    assert [p.id for p in proposals.of_investigation(inv_id, UNCONCEALED)] == [proposal_id]

    _review(client, world, inv_id)
    svc = world.container.investigations
    assert not svc.conceals(inv_id, OPERATOR)
    assert svc.get(inv_id, OPERATOR).result is not None
    assert {e.kind for e in svc.events(inv_id, OPERATOR)} & HIDDEN_EVENT_KINDS
    assert [p.id for p in proposals.of_investigation(inv_id, OPERATOR)] == [proposal_id]


def test_the_approvals_queue_keeps_shadow_records_for_admins_even_after_review(
    client: TestClient, world: World, shadow_run: tuple[str, str]
) -> None:
    """A shadow record is never anyone's to act on, so it stays out of the queue."""
    inv_id, proposal_id = shadow_run
    proposals = world.container.proposals
    _review(client, world, inv_id)
    assert proposals.list(OPERATOR, status=None, investigation_id=inv_id) == []
    with pytest.raises(NotFound):
        proposals.get(proposal_id, OPERATOR)
    assert [p.id for p in proposals.list(ADMIN, status=None)] == [proposal_id]
    assert proposals.get(proposal_id, ADMIN).status == "recorded"
    assert proposals.get(proposal_id, UNCONCEALED).id == proposal_id


def test_an_assist_investigation_hides_nothing(client: TestClient, world: World) -> None:
    agent(world, "helper", "assist")
    inv_id, worker = start(client, world, "helper")
    proposal_id = str(propose(client, inv_id, worker)["id"])
    finish(client, inv_id, worker)
    seen = world.container.investigations.get(inv_id, OPERATOR)
    assert (seen.reason, seen.trust_phase) == ("done", TrustPhase.ASSIST)
    assert seen.result is not None
    assert world.container.proposals.get(proposal_id, OPERATOR).phase is TrustPhase.ASSIST
