"""The adaptive reasoning-depth breaker: min(ceiling, 2 x p95 of successful runs)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import select

from nightshift.agent.events import EventKind
from nightshift.agent.limits import Limits
from nightshift.agent.reasoners.scripted import ScriptedReasoner
from nightshift.agent.tools.protocol import ToolCall
from nightshift.domain.ids import new_ordered_id
from nightshift.domain.vocabulary import Tier
from nightshift.observability.depth import depth_bound, p95
from nightshift.runtime.worker import build_limits
from nightshift.store.tables import AgentRow, InvestigationRow
from nightshift.worker_spec import WorkerSpec
from tests.support.control_plane import World
from tests.support.in_process_worker import run, submit
from tests.unit.observability.scrape import Scrape


def _seed_successes(world: World, tier: Tier, cycles: list[int], *, age_days: float = 1) -> None:
    finished = datetime.now(UTC) - timedelta(days=age_days)
    with world.container.db.transaction() as s:
        agent_id = s.scalar(select(AgentRow.id).where(AgentRow.name == "triage"))
        assert agent_id is not None
        for n in cycles:
            inv_id = new_ordered_id()
            s.add(
                InvestigationRow(
                    id=inv_id,
                    agent_id=agent_id,
                    title="seeded",
                    tier=tier.value,
                    status="succeeded",
                    spec={},
                    result={"cycles": n, "tool_calls": 3 * n},
                    chain_id=inv_id,
                    trust_phase="assist",
                    finished_at=finished,
                    created_at=finished,
                )
            )
    world.container.telemetry.depth.forget()


def _pathological(cycles: int = 40) -> ScriptedReasoner:
    """Always finds something new to ask and never becomes confident."""
    plans = [
        [ToolCall("kubectl_get", {"kind": "pods", "namespace": f"ns-{i}"})] for i in range(cycles)
    ]
    return ScriptedReasoner(plans)


def test_p95_is_a_nearest_rank_value_that_occurred() -> None:
    assert p95([]) is None
    assert p95([3.0]) == 3.0
    assert p95([float(n) for n in range(1, 101)]) == 95.0
    assert p95([2.0] * 19 + [9.0]) == 2.0


def test_the_bound_is_twice_p95_capped_by_the_ceiling_once_enough_runs_succeeded() -> None:
    assert depth_bound(Tier.SINGLE_DOMAIN, [3] * 25).limit == 6
    assert depth_bound(Tier.SINGLE_DOMAIN, [6] * 25).limit == 8  # ceiling 8
    assert depth_bound(Tier.MULTI_DOMAIN, [6] * 25).limit == 12
    assert depth_bound(Tier.MULTI_DOMAIN, [9] * 25).limit == 15  # ceiling 15
    assert depth_bound(Tier.SINGLE_DOMAIN, [1] * 25).limit == 2  # never below the floor
    few = depth_bound(Tier.SINGLE_DOMAIN, [3] * 5, min_samples=20)
    assert (few.limit, few.adaptive, few.samples) == (8, False, 5)
    assert depth_bound(Tier.SINGLE_DOMAIN, [3] * 25, ceiling=5).limit == 5


def test_the_worker_takes_the_bound_from_its_spec() -> None:
    assert build_limits(WorkerSpec(max_cycles=5)).max_cycles == 5
    assert build_limits(WorkerSpec(tier=Tier.MULTI_DOMAIN)) == Limits.for_tier(Tier.MULTI_DOMAIN)
    with pytest.raises(ValidationError):  # the contract refuses a bound that is no count
        WorkerSpec.model_validate({"max_cycles": 0})


def test_a_pathological_run_trips_the_breaker_at_the_computed_bound(
    client: TestClient, world: World
) -> None:
    _seed_successes(world, Tier.SINGLE_DOMAIN, [2, 3, 3, 2, 3] * 5)  # p95 = 3 -> bound 6
    _seed_successes(world, Tier.SINGLE_DOMAIN, [12] * 40, age_days=45)  # outside the window
    inv_id = submit(client, world, "cart-errors-after-release")  # a single-domain scenario
    r = run(client, world, inv_id, reasoner=_pathological())

    assert r.spec.max_cycles == 6
    trips = [e for e in r.events if e.kind is EventKind.BREAKER_TRIPPED]
    assert [dict(e.data) for e in trips] == [{"cycles": 6, "limit": 6}]
    assert r.result["cycles"] == 6
    assert r.status == "escalated"  # escalates with its evidence trail
    assert len(r.result["evidence"]) == 6
    got = client.get(f"/v1/investigations/{inv_id}", headers=world.auth("viewer")).json()
    assert got["status"] == "escalated"
    depth = client.get("/v1/observability/depth", headers=world.auth("viewer")).json()
    single = next(b for b in depth if b["tier"] == "single-domain")
    assert (single["limit"], single["p95"], single["samples"]) == (6, 3.0, 25)
    m = Scrape(client.get("/metrics").text)
    assert m.value("nightshift_reasoning_depth_limit", tier="single-domain") == 6
    assert m.value("nightshift_reasoning_depth_limit", tier="multi-domain") == 15
    assert m.value("nightshift_breaker_trips_total", kind="reasoning_depth") == 1


def test_without_enough_history_the_tier_ceiling_applies(client: TestClient, world: World) -> None:
    _seed_successes(world, Tier.SINGLE_DOMAIN, [2] * 3)
    inv_id = submit(client, world, "cart-errors-after-release")
    r = run(client, world, inv_id, reasoner=_pathological())
    assert r.spec.max_cycles == 8
    assert r.result["cycles"] == 8
