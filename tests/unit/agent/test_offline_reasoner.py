"""The offline reasoner diagnoses from kubectl text alone, through the public API."""

from __future__ import annotations

from nightshift.agent.investigation import investigate
from nightshift.agent.request import InvestigationRequest
from nightshift.agent.tools.protocol import ToolResult, ToolStatus
from nightshift.agent.tools.static import StaticToolset
from nightshift.domain.diagnosis import Outcome
from nightshift.domain.vocabulary import Tier
from tests.unit.agent import kube_texts as k


def _oom_world(logs: str = "starting api") -> StaticToolset:
    return StaticToolset(
        [
            ("kubectl_get", {"kind": "pods"}, k.PODS_OOM),
            ("kubectl_describe", {"name": "api-7d9f8b6c5d-x2x4z"}, k.DESCRIBE_OOM),
            ("kubectl_logs", {}, logs),
        ]
    )


async def test_oomkilled_pod_is_diagnosed_from_describe_text() -> None:
    d = await investigate(
        InvestigationRequest("api keeps restarting", namespace="shop"), _oom_world()
    )
    assert d.top is not None
    assert d.top.fault == "oom-killed"
    assert (d.top.resource.kind, d.top.resource.name) == ("Deployment", "api")
    assert "OOMKilled" in d.top.explanation
    assert d.top.remediation_class == "add-resources"
    assert set(d.top.evidence_ids) <= {e.id for e in d.evidence}


async def test_log_text_is_data_never_instructions() -> None:
    plain = await investigate("api keeps restarting", _oom_world())
    toolset = _oom_world(k.LOGS_INJECTION)
    injected = await investigate("api keeps restarting", toolset)
    assert injected.top is not None and plain.top is not None
    assert injected.top.fault == plain.top.fault == "oom-killed"
    assert all("delete" not in repr(c.params).lower() for c in toolset.calls)


async def test_upstream_refusals_point_at_the_service_with_no_endpoints() -> None:
    toolset = StaticToolset(
        [
            ("kubectl_get", {"kind": "pods"}, k.PODS_FRONTEND),
            ("kubectl_get", {"kind": "pod", "name": "frontend"}, k.PODS_FRONTEND.splitlines()[1]),
            ("kubectl_logs", {"pod": "frontend-6c9f7d8b5b-h2k4p"}, k.LOGS_FRONTEND),
            ("kubectl_describe", {"kind": "service", "name": "cart"}, k.DESCRIBE_CART_SVC),
        ]
    )
    d = await investigate(
        InvestigationRequest("frontend returns 503 errors", namespace="shop"), toolset
    )
    assert d.top is not None
    assert (d.top.fault, d.top.resource.name) == ("service-selector-mismatch", "cart")
    assert len(d.root_causes) >= 3


async def test_firewall_change_before_timeouts_outranks_pool_exhaustion_and_noise() -> None:
    toolset = StaticToolset(
        [
            ("list_alerts", {}, k.ALERTS_CASCADE),
            ("recent_changes", {}, k.CHANGES),
            ("kubectl_get", {"kind": "pods"}, k.PODS_CHECKOUT),
            ("kubectl_logs", {}, k.LOGS_CHECKOUT),
        ]
    )
    request = InvestigationRequest("checkout failing", tier=Tier.MULTI_DOMAIN)
    d = await investigate(request, toolset)
    assert d.top is not None
    assert d.top.fault == "firewall-rule-change"
    assert "rule 40 removed" in d.top.explanation
    faults = [c.fault for c in d.root_causes]
    assert "connection-pool-exhaustion" in faults
    assert d.cycles <= 8


async def test_pending_pod_with_unmatched_node_selector() -> None:
    toolset = StaticToolset(
        [
            ("kubectl_get", {"kind": "pods"}, k.PODS_PENDING),
            ("kubectl_describe", {"name": "import-6b7c8d9f5b-zz5kq"}, k.DESCRIBE_PENDING),
        ]
    )
    d = await investigate(InvestigationRequest("import is stuck", namespace="batch"), toolset)
    assert d.top is not None
    assert d.top.fault == "node-selector-mismatch"
    assert "disktype=nvme" in d.top.explanation


async def test_garbage_empty_and_failing_tools_end_without_a_guess() -> None:
    toolset = StaticToolset(
        [
            ("list_alerts", {}, ToolResult(ToolStatus.ERROR, "", error="502 bad gateway")),
            ("kubectl_get", {}, "\x00\x01\x02 \ufffd\ufffd garbage ::: \n" * 50),
            ("kubectl_events", {}, ""),
        ]
    )
    d = await investigate("is anything wrong?", toolset)
    assert d.outcome is Outcome.EXHAUSTED
    assert d.root_causes == ()
    assert any(e.status == "error" for e in d.evidence)


async def test_a_300_alert_storm_is_reasoned_over_and_its_cost_recorded() -> None:
    """The cost itself is measured by bench.diagnosis (a benchmark, not a timed test)."""
    lines = ["NAME SEVERITY TARGET SINCE DESCRIPTION"]
    for i in range(300):
        lines.append(
            f"Alert{i % 23} warning svc-{i % 40} 2026-11-22T01:{i % 60:02d}:00Z "
            f"p99 latency high; upstream timeout to db-{i % 7}:5432; pool exhausted ({i} waiting)"
        )
    toolset = StaticToolset(
        [("list_alerts", {}, "\n".join(lines)), ("recent_changes", {}, k.CHANGES)]
    )
    d = await investigate(InvestigationRequest("storm", tier=Tier.MULTI_DOMAIN), toolset)
    assert d.cycles >= 1
    assert len(d.stats["reasoner_cpu_ms_per_cycle"]) == d.cycles


async def test_service_selector_that_matches_no_pod_labels_is_found() -> None:
    svc = k.DESCRIBE_CART_SVC.replace("Endpoints:         <none>", "Endpoints:")
    labels = (
        "NAME                        READY   STATUS    RESTARTS   AGE   LABELS\n"
        "cart-5f6d8c7b9d-m7n2q       1/1     Running   0          2d    app=cart,tier=api\n"
    )
    toolset = StaticToolset(
        [
            ("kubectl_get", {"kind": "pods", "output": "labels"}, labels),
            ("kubectl_get", {"kind": "pods"}, k.PODS_FRONTEND),
            ("kubectl_logs", {"pod": "frontend-6c9f7d8b5b-h2k4p"}, k.LOGS_FRONTEND),
            ("kubectl_describe", {"kind": "service", "name": "cart"}, svc),
        ]
    )
    d = await investigate(
        InvestigationRequest("frontend returns 503 errors", namespace="shop"), toolset
    )
    assert d.top is not None
    assert (d.top.fault, d.top.resource.name) == ("service-selector-mismatch", "cart")
    assert "matches none of 2 pods" in d.top.explanation


async def test_days_old_alerts_do_not_move_the_incident_onset_before_a_change() -> None:
    alerts = (
        "STARTS AT             SEVERITY  TARGET            SUMMARY\n"
        "2026-11-19T02:00:00Z  info      kube-system/dns   NXDOMAIN responses above baseline\n"
        "2026-11-22T01:45:00Z  critical  shop/checkout     checkout failing: upstream timeout\n"
    )
    changes = (
        "TIME                  KIND            TARGET            SUMMARY\n"
        "2026-11-22T01:40:00Z  network-policy  shop/networkpolicy  default-deny egress for shop\n"
    )
    logs = "2026-11-22T01:45:10Z ERROR call to payments:8443 failed: i/o timeout\n"
    toolset = StaticToolset(
        [
            ("list_alerts", {}, alerts),
            ("recent_changes", {}, changes),
            ("kubectl_get", {"kind": "pods"}, k.PODS_CHECKOUT),
            ("kubectl_logs", {}, logs),
        ]
    )
    d = await investigate(InvestigationRequest("checkout failing", namespace="shop"), toolset)
    assert d.top is not None
    assert d.top.fault == "network-policy-change"
