"""The shipped Grafana dashboard and Prometheus rules use only metrics the code exports."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml
from fastapi.testclient import TestClient

from nightshift.domain.vocabulary import InvestigationStatus as S
from tests.support.control_plane import World
from tests.support.in_process_worker import launch_of, run, submit
from tests.unit.observability.scrape import Scrape

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"
DASHBOARD = DEPLOY / "dashboards" / "nightshift.json"
RULES = DEPLOY / "alerts" / "nightshift-rules.yaml"
METRIC = re.compile(r"\bnightshift_[a-z0-9_]+\b")
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}
REQUIRED_ALERTS = {
    "NightshiftQueueStuck",
    "NightshiftBreakerTripsSpike",
    "NightshiftCostPerInvestigationSpike",
    "NightshiftAgentDemoted",
    "NightshiftRbacDriftFound",
}


def _exported(client: TestClient, world: World) -> set[str]:
    """Every series name /metrics can show (families expanded to their sample names)."""
    run(client, world, submit(client, world, "two-am-cascade"))
    inv = submit(client, world, "two-am-cascade")
    launch_of(world, inv)
    world.executor.exit(inv, S.FAILED, "worker crashed")
    scrape = Scrape(client.get("/metrics").text)
    names = set()
    for family, kind in scrape.families.items():
        names |= {family + suffix for suffix in SUFFIXES.get(kind, ("",))}
    return names


def _dashboard_exprs() -> list[str]:
    dash: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return [t["expr"] for p in dash["panels"] for t in p.get("targets", [])]


def _rules() -> list[dict[str, Any]]:
    doc = yaml.safe_load(RULES.read_text())
    return [r for g in doc["groups"] for r in g["rules"]]


def test_the_dashboard_is_valid_grafana_json_with_unique_panel_ids() -> None:
    dash = json.loads(DASHBOARD.read_text())
    ids = [p["id"] for p in dash["panels"]]
    assert dash["uid"] == "nightshift"
    assert len(ids) == len(set(ids))
    assert all(p["gridPos"]["x"] + p["gridPos"]["w"] <= 24 for p in dash["panels"])
    assert len(_dashboard_exprs()) >= 20


def test_the_alert_rules_cover_the_required_conditions() -> None:
    rules = _rules()
    assert {r["alert"] for r in rules} >= REQUIRED_ALERTS
    for rule in rules:
        assert rule["labels"]["severity"] in {"page", "ticket"}
        assert rule["annotations"]["summary"]
        assert rule["expr"].count("(") == rule["expr"].count(")")


def test_every_metric_a_panel_or_rule_uses_is_one_the_code_exports(
    client: TestClient, world: World
) -> None:
    exported = _exported(client, world)
    used = {m for expr in _dashboard_exprs() for m in METRIC.findall(expr)}
    used |= {m for rule in _rules() for m in METRIC.findall(rule["expr"])}
    assert used, "no metrics found in the dashboard or rules"
    assert used - exported == set()
    # and nothing the dashboard relies on is a label-less guess
    assert {"nightshift_gate_value", "nightshift_reasoning_depth_limit"} <= used
