"""Label values stay bounded whatever a worker sends."""

from __future__ import annotations

from prometheus_client import generate_latest

from nightshift.observability.llm_calls import LlmCall
from nightshift.observability.metrics import (
    OTHER,
    REASON_VALUES,
    Bounded,
    Metrics,
    domain_label,
    reason_label,
)


def test_terminal_reasons_map_to_a_small_enum() -> None:
    assert reason_label("failed", "worker ran out of memory (limit 768 MB)") == "out_of_memory"
    assert reason_label("failed", "CPU-time limit of 120s exceeded") == "cpu_limit"
    assert reason_label("deadline_exceeded", "wall-clock deadline of 300s exceeded") == "deadline"
    assert reason_label("escalated", "breaker tripped after 8 cycles") == "breaker_tripped"
    assert reason_label("cancelled", "cancelled by alice: wrong cluster") == "cancelled"
    assert reason_label("succeeded", "firewall change on top") == "diagnosed"
    assert reason_label("failed", "something nobody foresaw") == "other"
    assert {reason_label("failed", f"text {i}") for i in range(100)} <= REASON_VALUES


def test_domains_collapse_to_one_label() -> None:
    assert domain_label(["network"]) == "network"
    assert domain_label(["network", "database"]) == "multi"
    assert domain_label([]) == "none"
    assert domain_label(["mars"]) == OTHER


def test_unknown_values_are_capped_then_become_other() -> None:
    bounded = Bounded(frozenset({"a"}), limit=2)
    assert [bounded(v) for v in ("a", "x", "y", "z", "x")] == ["a", "x", "y", OTHER, "x"]


def test_a_worker_cannot_explode_the_series_count() -> None:
    metrics = Metrics()
    for i in range(500):
        metrics.record_event("single-domain", "tool.answered", {"tool": f"t{i}", "status": f"s{i}"})
        metrics.record_event("x", "llm.call", {"model": f"m{i}", "provider": "p", "status": "ok"})
        metrics.record_event("x", "policy.decision", {"decision": {"outcome": f"o{i}"}})
    text = generate_latest(metrics.registry).decode()
    assert text.count("nightshift_tool_calls_total{") == 1
    assert text.count("nightshift_llm_calls_total{") <= 33
    assert text.count("nightshift_policy_decisions_total{") == 1


def test_model_call_events_are_read_leniently() -> None:
    call = LlmCall.from_event(
        {"model": "m", "usage": {"prompt_tokens": 10, "completion_tokens": 2}, "latency_ms": 250}
    )
    assert (call.input_tokens, call.output_tokens, call.latency_seconds) == (10, 2, 0.25)
    assert call.status == "ok"
    failed = LlmCall.from_event({"error": "timeout"})
    assert (failed.model, failed.status, failed.cost_usd) == ("unknown", "error", None)
    assert LlmCall.from_event({"status": "weird"}).status == "error"


def test_each_container_has_its_own_registry() -> None:
    a, b = Metrics(), Metrics()
    a.breaker_trips.labels("budget").inc()
    assert b"budget" not in generate_latest(b.registry)
