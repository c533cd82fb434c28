"""/metrics after real (in-process) investigations: the counts agree with what happened."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import select

from nightshift.agent.events import EventKind
from nightshift.domain.ids import new_id
from nightshift.domain.vocabulary import InvestigationStatus as S
from nightshift.store.tables import ActionProposalRow, AgentRow, InvestigationRow
from tests.support.control_plane import World
from tests.support.in_process_worker import ReportingModelCalls, launch_of, run, submit
from tests.unit.observability.scrape import Scrape

SCENARIOS = ("two-am-cascade", "cart-errors-after-release", "notifications-crashloop")


def _scrape(client: TestClient) -> Scrape:
    resp = client.get("/metrics")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/plain")
    return Scrape(resp.text)


def test_metrics_after_a_handful_of_investigations_have_consistent_counts(
    client: TestClient, world: World
) -> None:
    runs = [run(client, world, submit(client, world, name)) for name in SCENARIOS]
    crashed = submit(client, world, "two-am-cascade")
    launch_of(world, crashed)
    world.executor.exit(crashed, S.FAILED, "worker crashed with exit code 1; see its log")
    for r in runs:  # the worker processes exit after posting their results
        world.executor.exit(r.inv_id, S.FAILED, "worker exited without reporting a result")

    m = _scrape(client)
    assert m.value("nightshift_investigations_started_total", agent="triage") == 4
    finished = m.value("nightshift_investigations_completed_total") + m.value(
        "nightshift_investigations_failed_total"
    )
    assert finished == 4
    assert m.value("nightshift_investigations_failed_total", reason="crashed") == 1
    assert m.value("nightshift_investigations_completed_total") == 3
    tool_answers = sum(1 for r in runs for e in r.events if e.kind is EventKind.TOOL_ANSWERED)
    assert m.value("nightshift_tool_calls_total") == tool_answers
    decisions = sum(1 for r in runs for e in r.events if e.kind is EventKind.POLICY_DECISION)
    assert decisions > 0
    assert m.value("nightshift_policy_decisions_total") == decisions
    assert m.value("nightshift_investigation_cycles_count") == 3
    assert m.value("nightshift_investigation_cycles_sum") == sum(r.result["cycles"] for r in runs)
    assert m.value("nightshift_investigation_duration_seconds_count") == 4
    assert m.value("nightshift_admission_wait_seconds_count") == 4
    assert m.value("nightshift_queue_depth") == 0
    assert m.value("nightshift_investigations_active") == 0
    assert m.value("nightshift_agents", phase="assist", status="active") == 1
    assert m.value("nightshift_investigation_cost_usd_count") == 4
    assert m.value("nightshift_cost_usd_total", component="compute") > 0
    # No investigation id ever becomes a label value (unbounded series).
    ids = {r.inv_id for r in runs} | {crashed}
    assert not ids & m.label_values()


def test_the_result_sets_the_investigations_incident_category(
    client: TestClient, world: World
) -> None:
    r = run(client, world, submit(client, world, "two-am-cascade"))
    with world.container.db.read() as s:
        row = s.get(InvestigationRow, r.inv_id)
        assert row is not None
        assert row.category == r.result["root_causes"][0]["category"]


def test_model_calls_are_counted_by_model_with_tokens_latency_and_cost(
    client: TestClient, world: World
) -> None:
    call = {
        "provider": "openai",
        "model": "gpt-test",
        "purpose": "plan",
        "attempt": 1,
        "input_tokens": 1200,
        "output_tokens": 150,
        "cached_tokens": 1000,
        "latency_ms": 850.0,
        "cost_usd": 0.0031,
        "status": "ok",
        "error": None,
    }
    failed = {
        **call,
        "status": "error",
        "error": "rate limited",
        "cost_usd": None,
        "output_tokens": 0,
    }
    model = ReportingModelCalls([call, failed])
    r = run(client, world, submit(client, world, "two-am-cascade"), reasoner=model)
    assert [e.data for e in r.events if e.kind is EventKind.LLM_CALL] == [call, failed]
    m = _scrape(client)
    assert m.value("nightshift_llm_calls_total", model="gpt-test", outcome="ok") == 1
    assert m.value("nightshift_llm_calls_total", model="gpt-test", outcome="error") == 1
    assert m.value("nightshift_llm_tokens_total", model="gpt-test", kind="input") == 2400
    assert m.value("nightshift_llm_tokens_total", model="gpt-test", kind="cached") == 2000
    assert m.value("nightshift_llm_tokens_total", model="gpt-test", kind="output") == 150
    assert m.value("nightshift_llm_call_duration_seconds_count", model="gpt-test") == 2
    assert abs(m.value("nightshift_llm_cost_usd_total", model="gpt-test") - 0.0031) < 1e-9


def test_breaker_trips_and_policy_denials_are_counted_by_kind(
    client: TestClient, world: World
) -> None:
    inv = submit(client, world, "two-am-cascade")
    worker = {"Authorization": f"Bearer {launch_of(world, inv).token}"}
    deny = {"tool": "kubectl_get", "decision": {"outcome": "deny", "reason": "rate_limited"}}
    events = [
        {"kind": "policy.decision", "data": deny},
        {"kind": "breaker.tripped", "data": {"cycles": 8, "limit": 8}},
    ]
    client.post(f"/v1/investigations/{inv}/worker/events", json={"events": events}, headers=worker)
    m = _scrape(client)
    assert m.value("nightshift_breaker_trips_total", kind="reasoning_depth") == 1
    assert m.value("nightshift_breaker_trips_total", kind="rate_limited") == 1
    assert m.value("nightshift_policy_decisions_total", outcome="deny", reason="rate_limited") == 1


def test_pending_approvals_and_queue_are_read_from_the_database_at_scrape_time(
    client: TestClient, world: World
) -> None:
    queued = submit(client, world, "two-am-cascade")
    with world.container.db.transaction() as s:
        agent_id = s.scalar(select(AgentRow.id).where(AgentRow.name == "triage"))
        assert agent_id is not None
        s.add(
            ActionProposalRow(
                id=new_id(),
                investigation_id=queued,
                agent_id=agent_id,
                action_type="restart-pod",
                target={},
                phase="assist",
                status="pending_approval",
                created_at=datetime.now(UTC),
            )
        )
    m = _scrape(client)
    assert m.value("nightshift_queue_depth", status="queued") == 1
    assert m.value("nightshift_queue_oldest_age_seconds") >= 0
    assert m.value("nightshift_approvals_pending") == 1


def test_gate_gauges_show_each_gates_value_against_its_threshold(
    client: TestClient, world: World
) -> None:
    m = _scrape(client)
    sample = m.value("nightshift_gate_threshold", agent="triage", gate="sample_size")
    assert sample == 150  # assist -> limited-remediation needs 150 assisted incidents
    assert m.value("nightshift_gate_passed", agent="triage", gate="sample_size") == 0
    view = client.get("/v1/observability/gates", headers=world.auth("viewer")).json()
    gates = {g["name"]: g for g in view[0]["gates"]}
    assert view[0]["agent"] == "triage"
    assert view[0]["target"] == "limited-remediation"
    assert gates["sample_size"]["threshold"] == 150
    assert gates["sample_size"]["passed"] is False


def test_rbac_drift_findings_are_a_gauge_the_cluster_check_sets(
    client: TestClient, world: World
) -> None:
    world.container.telemetry.metrics.set_rbac_drift({"extra_verb": 2, "extra_namespace": 1})
    m = _scrape(client)
    assert m.value("nightshift_rbac_drift_findings") == 3
    world.container.telemetry.metrics.set_rbac_drift({})
    assert _scrape(client).value("nightshift_rbac_drift_findings") == 0


def test_metrics_need_the_token_when_one_is_configured(client: TestClient, world: World) -> None:
    world.container.settings.metrics_token = type(world.container.settings.metrics_token)("s3")
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer s3"}).status_code == 200
