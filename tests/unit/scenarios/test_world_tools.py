"""The simulated world is a Toolset: every canonical tool answers, bad calls never raise."""

from __future__ import annotations

from typing import Any

import pytest

from nightshift.agent.tools.catalog import CATALOG
from nightshift.agent.tools.protocol import ToolCall, ToolResult, Toolset, ToolStatus
from nightshift.scenarios import SimulatedWorld


def ask(world: SimulatedWorld, tool: str, **params: Any) -> ToolResult:
    return world.call_sync(ToolCall(tool, params))


def test_world_implements_the_toolset_protocol(cascade: SimulatedWorld) -> None:
    assert isinstance(cascade, Toolset)
    assert {s.name for s in cascade.specs()} == {s.name for s in CATALOG}


async def test_async_call_answers_like_the_sync_one(cascade: SimulatedWorld) -> None:
    call = ToolCall("kubectl_get", {"kind": "pods", "namespace": "shop"})
    assert (await cascade.call(call)) == cascade.call_sync(call)


def test_unknown_tool_is_an_error_result_not_an_exception(cascade: SimulatedWorld) -> None:
    result = ask(cascade, "kubectl_exec", pod="x")
    assert result.status is ToolStatus.ERROR
    assert "unknown tool 'kubectl_exec'" in result.text


@pytest.mark.parametrize(
    ("tool", "params", "problem"),
    [
        ("kubectl_get", {}, "missing required parameter 'kind'"),
        ("kubectl_get", {"kind": "pods", "colour": "red"}, "unknown parameter 'colour'"),
        ("kubectl_logs", {"pod": "x", "tail": "ten"}, "parameter 'tail' must be integer"),
        ("kubectl_logs", {"pod": "x", "tail": 0}, "parameter 'tail' must be >= 1"),
        ("kubectl_top", {"kind": "services"}, "must be one of ['pods', 'nodes']"),
        ("kubectl_logs", {"pod": "x", "previous": "yes"}, "parameter 'previous' must be boolean"),
    ],
)
def test_bad_params_are_a_clear_error(
    cascade: SimulatedWorld, tool: str, params: dict[str, Any], problem: str
) -> None:
    result = ask(cascade, tool, **params)
    assert result.status is ToolStatus.ERROR
    assert problem in result.text


def test_same_scenario_same_answers() -> None:
    first, second = SimulatedWorld("two-am-cascade"), SimulatedWorld("two-am-cascade")
    for spec in ("list_alerts", "recent_changes"):
        assert ask(first, spec).text == ask(second, spec).text
    query = {"query": "pgbouncer_pools_client_waiting_connections"}
    assert ask(first, "prometheus_query", **query) == ask(second, "prometheus_query", **query)


def test_list_alerts_filters_by_domain(cascade: SimulatedWorld) -> None:
    result = ask(cascade, "list_alerts", domain="network")
    assert result.data is not None
    assert {g["domain"] for g in result.data["newest"]} == {"network"}
    assert result.text.splitlines()[1].split()[:4] == ["FIRST", "SEEN", "LAST", "SEEN"]


def test_a_storm_is_summarized_newest_first_with_every_alert_counted() -> None:
    """100x the cascade's storm: the answer still fits its budget, counts all
    29,000+ alerts, and leads with the newest groups, not the oldest rows."""
    from nightshift.scenarios.clock import at
    from nightshift.scenarios.loader import _read_yaml, parse_scenario, resolve_path
    from nightshift.scenarios.tools_signals import ALERT_ANSWER_CHARS

    path = resolve_path("two-am-cascade")
    doc = dict(_read_yaml(path))
    doc["alert_storm"] = [g for g in doc["alert_storm"] for _ in range(100)]
    scenario = parse_scenario(doc, path)
    result = ask(SimulatedWorld(scenario), "list_alerts")
    total = len(scenario.alerts)
    assert total > 29_000
    assert len(result.text) <= ALERT_ANSWER_CHARS
    assert result.text.startswith(f"{total} alerts firing")
    assert result.data is not None and result.data["total"] == total
    newest = min(scenario.alerts, key=lambda a: a.since)
    oldest = max(scenario.alerts, key=lambda a: a.since)
    assert newest.name in result.text and newest.target in result.text
    for name in {a.name for a in scenario.alerts}:  # every alert name accounted for
        assert name in result.text
    first_row = result.data["newest"][0]
    assert first_row["last_seen"] == at(scenario.metadata.now, newest.since).timestamp()
    assert first_row["last_seen"] > at(scenario.metadata.now, oldest.since).timestamp()


def test_recent_changes_respects_the_window(cascade: SimulatedWorld) -> None:
    recent = ask(cascade, "recent_changes", since_minutes=60)
    assert "CHG-20417" in recent.text
    assert "DEP-88412" not in recent.text  # 3h ago


def test_promql_label_matchers_select_series(cascade: SimulatedWorld) -> None:
    result = ask(
        cascade,
        "prometheus_query",
        query='sum by (service) (http_server_requests_error_ratio{service=~"orders.*|cart-api"})',
    )
    assert result.status is ToolStatus.OK
    assert 'service="orders-api"' in result.text and 'service="cart-api"' in result.text
    assert 'service="checkout-api"' not in result.text
    assert result.text.splitlines()[2].split()[0] == "SERIES"


def test_promql_with_no_match_is_no_data(cascade: SimulatedWorld) -> None:
    result = ask(cascade, "prometheus_query", query='up{job="nothing-here"}')
    assert result.status is ToolStatus.NO_DATA


def test_promql_garbage_is_an_error(cascade: SimulatedWorld) -> None:
    result = ask(cascade, "prometheus_query", query="rate(foo{bar=}[5m]")
    assert result.status is ToolStatus.ERROR


def test_network_probe_times_out_through_the_firewall(cascade: SimulatedWorld) -> None:
    result = ask(
        cascade,
        "network_check",
        source="shop/checkout-api",
        destination="risk-scoring.dc1.corp",
        port=8443,
    )
    assert "timed out" in result.text
    ok = ask(
        cascade, "network_check", source="checkout-api", destination="pgbouncer.data.svc", port=6432
    )
    assert "succeeded!" in ok.text


def test_dns_answers_services_and_nxdomain(cascade: SimulatedWorld) -> None:
    assert "Address: " in ask(cascade, "dns_lookup", name="checkout-api.shop").text
    assert "NXDOMAIN" in ask(cascade, "dns_lookup", name="nothing.example").text


def test_db_stats_shows_pool_exhaustion(cascade: SimulatedWorld) -> None:
    text = ask(cascade, "db_stats", database="orders-db").text
    assert "idle in transaction" in text and "412" in text
    assert ask(cascade, "db_stats", database="mongo").status is ToolStatus.NO_DATA


def test_firewall_rules_name_the_change(cascade: SimulatedWorld) -> None:
    text = ask(cascade, "firewall_rules", target="10.0.0.0/16").text
    assert "CHG-20417" in text and "DENY" in text


@pytest.mark.parametrize("target", ["k8s-prod-to-dc", "fw-dc-edge-01", "fw-dc-edge-02"])
def test_firewall_rules_find_a_ruleset_by_its_name_or_either_device(
    cascade: SimulatedWorld, target: str
) -> None:
    result = ask(cascade, "firewall_rules", target=target)
    assert result.status is ToolStatus.OK
    assert "ruleset k8s-prod-to-dc" in result.text and "CHG-20417" in result.text


def test_firewall_rules_say_why_when_nothing_applies(cascade: SimulatedWorld) -> None:
    result = ask(cascade, "firewall_rules", target="fw-nowhere-07")
    assert result.status is ToolStatus.NO_DATA
    assert "no firewall rules or network policies apply to fw-nowhere-07" in result.text


def test_logs_search_spans_pods_and_external_streams(cascade: SimulatedWorld) -> None:
    result = ask(cascade, "logs_search", pattern="DPT=8443")
    assert result.status is ToolStatus.OK
    assert '{source="fw-dc-edge-01"}' in result.text
    scoped = ask(cascade, "logs_search", pattern="query_wait_timeout", namespace="data")
    assert all('namespace="data"' in line for line in scoped.text.splitlines())


def test_security_events_filter_by_target(cascade: SimulatedWorld) -> None:
    text = ask(cascade, "security_events", target="account-api").text
    assert "auth.login.failure" in text and "falco" not in text
