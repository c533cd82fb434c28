"""Cost attribution on a seeded month: per investigation, by agent, incident
category and tier, and the share of the most expensive 10 %."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from nightshift.cli.main import app as cli
from nightshift.cli.observability import parse_moment
from nightshift.domain.ids import new_ordered_id
from nightshift.domain.vocabulary import Tier
from nightshift.observability.costs import CostBreakdown, Prices, breakdown, top_share
from nightshift.observability.llm_calls import LlmCall, TokenPrice
from nightshift.services.demo_identities import DEMO_BOUNDARIES
from nightshift.store.tables import AgentRow, InvestigationEventRow, InvestigationRow
from tests.support.control_plane import World

NOW = datetime.now(UTC)
CATEGORIES = ("network", "database", "application", "change")
LLM_EVENT = {
    "provider": "openai",
    "model": "gpt-test",
    "input_tokens": 20_000,
    "output_tokens": 1_000,
    "cached_tokens": 0,
    "latency_ms": 900.0,
    "cost_usd": 0.05,
    "status": "ok",
}


def _seed_month(world: World) -> dict[str, float]:
    """300 investigations over 30 days: 2 agents, 4 categories, both tiers; every
    tenth is a long multi-domain run that also calls a model 10 times. Returns
    the expected totals."""
    world.container.agents.register(
        "netwatch",
        owner="lead",
        authority_class="advisory",
        trust_phase="shadow",
        boundaries=DEMO_BOUNDARIES,
    )
    expected = {"investigations": 0, "llm": 0.0}
    with world.container.db.transaction() as s:
        agents = dict(s.execute(select(AgentRow.name, AgentRow.id)).all())
        for i in range(300):
            finished = NOW - timedelta(days=29.5 * i / 300, minutes=5)
            heavy = i % 10 == 0
            inv_id = new_ordered_id()
            s.add(
                InvestigationRow(
                    id=inv_id,
                    agent_id=agents["triage" if i % 3 else "netwatch"],
                    title=f"seeded {i}",
                    tier=(Tier.MULTI_DOMAIN if heavy else Tier.SINGLE_DOMAIN).value,
                    status="succeeded" if i % 7 else "escalated",
                    spec={},
                    result={"cycles": 4, "tool_calls": 40 if heavy else 10},
                    chain_id=inv_id,
                    trust_phase="assist",
                    created_at=finished - timedelta(minutes=3),
                    finished_at=finished,
                    resources={
                        "cpu_seconds": 300.0 if heavy else 20.0,
                        "max_rss_mb": 512.0,
                        "wall_seconds": 900.0 if heavy else 120.0,
                    },
                    event_count=100,
                    category=CATEGORIES[i % 4],
                )
            )
            s.flush()
            for seq in range(10 if heavy else 0):
                s.add(
                    InvestigationEventRow(
                        investigation_id=inv_id, seq=seq + 1, kind="llm.call", data=LLM_EVENT
                    )
                )
                expected["llm"] += 0.05
            expected["investigations"] += 1
        old = new_ordered_id()  # finished before the period: not counted
        s.add(
            InvestigationRow(
                id=old,
                agent_id=agents["triage"],
                title="old",
                tier="single-domain",
                status="succeeded",
                spec={},
                chain_id=old,
                trust_phase="assist",
                finished_at=NOW - timedelta(days=45),
                resources={"cpu_seconds": 1e6},
            )
        )
    return expected


def test_pricing_an_investigation_covers_llm_compute_tooling_and_storage() -> None:
    prices = Prices(
        cpu_second_usd=0.001,
        gb_second_usd=0.0001,
        tool_call_usd=0.01,
        storage_gb_month_usd=1.0,
        bytes_per_event=1_000_000,
        retention_days=30,
    )
    cost = breakdown(
        llm_usd=0.5,
        resources={"cpu_seconds": 100, "max_rss_mb": 1024, "wall_seconds": 200},
        tool_calls=12,
        event_count=100,
        prices=prices,
    )
    assert cost == CostBreakdown(llm=0.5, compute=0.1 + 0.02, tooling=0.12, storage=0.1)
    assert cost.total == pytest.approx(0.84)


def test_unpriced_model_calls_are_priced_from_the_table_with_cached_tokens_cheaper() -> None:
    call = LlmCall.from_event(
        {
            "model": "m",
            "input_tokens": 1_000_000,
            "cached_tokens": 600_000,
            "output_tokens": 100_000,
            "cost_usd": None,
        }
    )
    assert call.priced({"m": TokenPrice(input=3.0, output=15.0, cached=0.3)}) == pytest.approx(
        0.4 * 3.0 + 0.6 * 0.3 + 0.1 * 15.0
    )
    assert call.priced({}) == 0.0
    assert LlmCall.from_event({"model": "m", "cost_usd": 0.2}).priced({}) == 0.2


def test_the_top_decile_share_is_what_the_most_expensive_tenth_spent() -> None:
    assert top_share([]) == (0.0, 0)
    assert top_share([1.0] * 10) == (0.1, 1)
    share, count = top_share([10.0] * 10 + [1.0] * 90)
    assert count == 10
    assert share == pytest.approx(100 / 190)


def test_the_month_report_groups_by_agent_category_and_tier(world: World) -> None:
    expected = _seed_month(world)
    report = world.container.telemetry.costs.report(NOW - timedelta(days=30), NOW)
    assert report.investigations == expected["investigations"] == 300
    assert report.total.llm == pytest.approx(expected["llm"]) == pytest.approx(15.0)
    assert {g.key: g.investigations for g in report.by_agent} == {"triage": 200, "netwatch": 100}
    assert {g.key for g in report.by_category} == set(CATEGORIES)
    assert {g.key: g.investigations for g in report.by_tier} == {
        "multi-domain": 30,
        "single-domain": 270,
    }
    multi = next(g for g in report.by_tier if g.key == "multi-domain")
    assert multi.cost.total > sum(g.cost.total for g in report.by_tier) / 2
    assert report.top_decile_count == 30
    assert report.top_decile_share == pytest.approx(multi.cost.total / report.total.total)
    assert 0.5 < report.top_decile_share < 1


def test_nightshift_costs_reports_a_seeded_month(world: World, live: str) -> None:
    _seed_month(world)
    args = ["costs", "--since", "30d", "--api", live, "--token", world.tokens["viewer"]]
    runner = CliRunner()
    as_json = runner.invoke(cli, [*args, "--json"])
    assert as_json.exit_code == 0, as_json.output
    body = json.loads(as_json.output)
    assert body["investigations"] == 300
    assert [g["key"] for g in body["by_tier"]] == ["multi-domain", "single-domain"]
    assert body["top_decile_count"] == 30
    table = runner.invoke(cli, args, env={"COLUMNS": "160"})
    assert table.exit_code == 0, table.output
    assert "300 investigations finished" in table.output
    assert "the most expensive 10 % (30 investigations) spent" in table.output
    for heading in ("by agent", "by incident category", "by tier", "netwatch", "change"):
        assert heading in table.output
    only = runner.invoke(cli, [*args, "--agent", "netwatch", "--json"])
    assert json.loads(only.output)["investigations"] == 100


def test_one_investigations_cost_is_readable_through_the_api(
    client: TestClient, world: World
) -> None:
    _seed_month(world)
    with world.container.db.read() as s:
        inv_id = s.scalar(select(InvestigationRow.id).where(InvestigationRow.title == "seeded 0"))
    got = client.get(f"/v1/investigations/{inv_id}/cost", headers=world.auth("viewer")).json()
    assert got["tier"] == "multi-domain"
    assert got["cost"]["llm"] == pytest.approx(0.5)
    assert got["cost"]["compute"] > 0 and got["cost"]["total"] > got["cost"]["llm"]
    missing = client.get("/v1/investigations/nope/cost", headers=world.auth("viewer"))
    assert missing.status_code == 404


def test_periods_parse_as_spans_ago_or_iso_dates() -> None:
    now = datetime(2026, 3, 31, tzinfo=UTC)
    assert parse_moment("30d", now) == now - timedelta(days=30)
    assert parse_moment("12h", now) == now - timedelta(hours=12)
    assert parse_moment("2026-03-01", now) == datetime(2026, 3, 1, tzinfo=UTC)
