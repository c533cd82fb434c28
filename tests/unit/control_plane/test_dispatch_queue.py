"""The dispatch claim as the services layer owns it (services/dispatch_queue.py):
one transaction moves queued investigations to ``dispatched`` and hands the
runtime a ``Claim`` view to start, never a row. SQLite here; the same claim
across PostgreSQL replicas is in tests/integration/control_plane/test_replicas.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from nightshift.api.app import create_app
from nightshift.domain.vocabulary import InvestigationStatus as S
from nightshift.domain.vocabulary import Tier
from nightshift.services.dispatch_queue import ClaimCaps, DispatchQueue
from nightshift.store.tables import AgentRow, InvestigationRow, as_utc
from tests.support.control_plane import World, make_world

CAPS = ClaimCaps(
    max_running=2,
    max_running_per_agent=2,
    deadline_seconds={tier: 600 for tier in Tier},
    replica="alpha",
)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = make_world(tmp_path, replica_id="alpha")
    yield w
    w.container.db.dispose()


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    with TestClient(create_app(world.container, background=False)) as c:
        yield c


def _submit(world: World, client: TestClient) -> str:
    # A scenario's investigation asks for exactly the domains it names.
    body = {"agent": "triage", "scenario": "two-am-cascade", "domains": ["database"],
            "tier": "single-domain"}  # fmt: skip
    resp = client.post("/v1/investigations", json=body, headers=world.auth("operator"))
    assert resp.status_code == 201, resp.text
    return str(resp.json()["id"])


def _row(world: World, inv_id: str) -> InvestigationRow:
    with world.container.db.read() as s:
        row = s.get(InvestigationRow, inv_id)
        assert row is not None
        return row


def test_a_claim_dispatches_the_investigation_and_describes_its_launch(
    world: World, client: TestClient
) -> None:
    inv_id = _submit(world, client)
    queue = DispatchQueue(world.container.db, world.container.investigations)
    (claim,) = queue.claim_next(CAPS)
    assert (claim.investigation_id, claim.agent, claim.owner) == (inv_id, "triage", "lead")
    assert claim.tier is Tier.SINGLE_DOMAIN and claim.trust_phase == "assist"
    assert claim.credential_domains == ("database",)
    row = _row(world, inv_id)
    assert row.status == S.DISPATCHED.value and row.replica == "alpha" and row.attempts == 1
    assert row.deadline_at is not None
    assert claim.deadline_seconds == row.spec["deadline_seconds"]  # the spec's, not the caps'
    assert claim.deadline_at == as_utc(row.deadline_at)
    assert claim.token and claim.token not in repr(claim)  # a credential: never logged
    assert queue.claim_next(CAPS) == []  # taken once


def test_an_llm_agents_claim_also_covers_the_application_domain(
    world: World, client: TestClient
) -> None:
    with world.container.db.transaction() as s:
        agent = s.query(AgentRow).filter_by(name="triage").one()
        agent.settings = {**(agent.settings or {}), "llm": {"provider": "openai", "model": "m"}}
    _submit(world, client)
    queue = DispatchQueue(world.container.db, world.container.investigations)
    (claim,) = queue.claim_next(CAPS)
    assert claim.credential_domains == ("database", "application")


def test_a_claim_takes_no_more_than_the_caps_leave_free(world: World, client: TestClient) -> None:
    ids = [_submit(world, client) for _ in range(3)]
    queue = DispatchQueue(world.container.db, world.container.investigations)
    assert [c.investigation_id for c in queue.claim_next(CAPS)] == ids[:2]
    assert queue.claim_next(CAPS) == []  # both slots are busy
    assert _row(world, ids[2]).status == S.QUEUED.value


def test_the_heartbeat_guard_and_the_launch_hook_run_inside_the_claim(
    world: World, client: TestClient
) -> None:
    seen: list[str] = []

    def prepare_launch(s: Session, row: InvestigationRow) -> dict[str, str]:
        seen.append(f"launch {row.status}")
        return {"TRACE": "t1"}

    queue = DispatchQueue(
        world.container.db,
        world.container.investigations,
        claim_guard=lambda s: seen.append("guard"),
        prepare_launch=prepare_launch,
    )
    assert queue.claim_next(CAPS) == []
    assert seen == []  # nothing queued: no heartbeat written for nothing
    _submit(world, client)
    (claim,) = queue.claim_next(CAPS)
    assert seen == ["guard", "launch dispatched"]
    assert claim.extra_env == {"TRACE": "t1"}
