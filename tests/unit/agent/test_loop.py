"""The loop: streaming, budgets as inputs, and bad tool behaviour as evidence."""

from __future__ import annotations

from nightshift.agent.events import AgentEvent, EventKind
from nightshift.agent.investigation import investigate, stream_investigation
from nightshift.agent.limits import Limits
from nightshift.agent.reasoners.protocol import HypothesisUpdate
from nightshift.agent.reasoners.scripted import ScriptedReasoner
from nightshift.agent.tools.protocol import ToolCall, ToolResult, ToolStatus
from nightshift.agent.tools.static import StaticToolset
from nightshift.domain.diagnosis import (
    Diagnosis,
    EvidenceStance,
    HypothesisState,
    Outcome,
    ResourceRef,
)

WEB = ResourceRef("Deployment", "web", "shop")
PODS = ToolCall("kubectl_get", {"kind": "pods"})


def _update(
    fault: str, confidence: float, stance: EvidenceStance = EvidenceStance.SUPPORTS
) -> HypothesisUpdate:
    return HypothesisUpdate(WEB, fault, confidence, stance, rationale="scripted")


async def _run(
    reasoner: ScriptedReasoner, toolset: StaticToolset, limits: Limits
) -> list[AgentEvent | Diagnosis]:
    return [
        item async for item in stream_investigation("why is web down?", toolset, reasoner, limits)
    ]


async def test_stream_ends_with_the_diagnosis_after_a_result_event() -> None:
    reasoner = ScriptedReasoner([[PODS]], {"kubectl_get": [_update("oom-killed", 0.5)]})
    items = await _run(
        reasoner, StaticToolset([("kubectl_get", {}, "web-1 0/1 OOMKilled")]), Limits()
    )
    assert isinstance(items[-1], Diagnosis)
    kinds = [i.kind for i in items if isinstance(i, AgentEvent)]
    assert kinds[0] is EventKind.INVESTIGATION_STARTED
    assert kinds[-1] is EventKind.RESULT
    assert EventKind.TOOL_REQUESTED in kinds and EventKind.TOOL_ANSWERED in kinds
    assert EventKind.HYPOTHESIS_CREATED in kinds and EventKind.CYCLE_FINISHED in kinds


async def test_hypothesis_clearing_the_threshold_is_confirmed_and_diagnosed() -> None:
    plans = [[PODS], [ToolCall("kubectl_describe", {"kind": "pod", "name": "web-1"})], [PODS]]
    reasoner = ScriptedReasoner(plans, {"kubectl_describe": [_update("oom-killed", 0.95)]})
    items = await _run(reasoner, StaticToolset([]), Limits())
    diagnosis = items[-1]
    assert isinstance(diagnosis, Diagnosis)
    assert diagnosis.outcome is Outcome.DIAGNOSED
    assert diagnosis.cycles == 2
    assert diagnosis.hypotheses[0].state is HypothesisState.CONFIRMED
    assert any(
        isinstance(i, AgentEvent) and i.kind is EventKind.HYPOTHESIS_CONFIRMED for i in items
    )


async def test_breaker_trips_at_max_cycles_and_escalates_with_the_evidence_trail() -> None:
    plans = [[ToolCall("kubectl_events", {"name": f"p{i}"})] for i in range(20)]
    reasoner = ScriptedReasoner(plans, {"kubectl_events": [_update("crashloop-app-error", 0.4)]})
    items = await _run(reasoner, StaticToolset([]), Limits(max_cycles=3))
    diagnosis = items[-1]
    assert isinstance(diagnosis, Diagnosis)
    assert diagnosis.outcome is Outcome.BREAKER_TRIPPED and diagnosis.escalate
    assert diagnosis.cycles == 3
    assert len(diagnosis.evidence) == 3
    assert any(isinstance(i, AgentEvent) and i.kind is EventKind.BREAKER_TRIPPED for i in items)


async def test_tool_call_budget_ends_the_run_instead_of_growing() -> None:
    plans = [[ToolCall("kubectl_events", {"name": f"p{i}"}) for i in range(5)]]
    reasoner = ScriptedReasoner(plans)
    items = await _run(reasoner, StaticToolset([]), Limits(max_tool_calls=2))
    diagnosis = items[-1]
    assert isinstance(diagnosis, Diagnosis)
    assert diagnosis.outcome is Outcome.BUDGET_EXHAUSTED
    assert diagnosis.tool_calls == 2


async def test_hanging_tool_times_out_and_is_recorded_as_timeout_evidence() -> None:
    reasoner = ScriptedReasoner([[ToolCall("db_stats", {"database": "orders"}), PODS]])
    toolset = StaticToolset([("kubectl_get", {}, "ok")], hang=["db_stats"])
    items = await _run(reasoner, toolset, Limits(call_timeout_s=0.05))
    diagnosis = items[-1]
    assert isinstance(diagnosis, Diagnosis)
    assert [e.status for e in diagnosis.evidence] == ["timeout", "ok"]


async def test_raising_tool_is_error_evidence_not_a_crash() -> None:
    reasoner = ScriptedReasoner([[PODS]])
    toolset = StaticToolset([("kubectl_get", {}, RuntimeError("apiserver exploded"))])
    diagnosis = (await _run(reasoner, toolset, Limits()))[-1]
    assert isinstance(diagnosis, Diagnosis)
    assert diagnosis.evidence[0].status == "error"
    assert "apiserver exploded" in diagnosis.evidence[0].summary


async def test_tool_the_toolset_does_not_offer_is_no_data() -> None:
    reasoner = ScriptedReasoner([[ToolCall("firewall_rules", {"target": "db"})]])
    toolset = StaticToolset([], tools=["kubectl_get"])
    diagnosis = (await _run(reasoner, toolset, Limits()))[-1]
    assert isinstance(diagnosis, Diagnosis)
    assert diagnosis.evidence[0].status == "no_data"
    assert toolset.calls == []


async def test_oversized_output_is_cut_and_marked_truncated() -> None:
    reasoner = ScriptedReasoner([[PODS]])
    toolset = StaticToolset([("kubectl_get", {}, "x" * 300_000)])
    diagnosis = (await _run(reasoner, toolset, Limits()))[-1]
    assert isinstance(diagnosis, Diagnosis)
    assert diagnosis.evidence[0].status == "truncated"
    assert len(reasoner.observed[0][1].text) < 300_000


async def test_refuted_hypothesis_is_rejected_and_left_out_of_root_causes() -> None:
    plans = [[PODS], [ToolCall("kubectl_logs", {"pod": "web-1"})]]
    updates = {
        "kubectl_get": [_update("oom-killed", 0.6), _update("crashloop-app-error", 0.3)],
        "kubectl_logs": [_update("oom-killed", 0.01, EvidenceStance.REFUTES)],
    }
    diagnosis = (await _run(ScriptedReasoner(plans, updates), StaticToolset([]), Limits()))[-1]
    assert isinstance(diagnosis, Diagnosis)
    assert [c.fault for c in diagnosis.root_causes] == ["crashloop-app-error"]
    rejected = [h for h in diagnosis.hypotheses if h.fault == "oom-killed"]
    assert rejected[0].state is HypothesisState.REJECTED


async def test_root_causes_carry_taxonomy_category_remediation_and_evidence() -> None:
    reasoner = ScriptedReasoner([[PODS]], {"kubectl_get": [_update("oom-killed", 0.7)]})
    diagnosis = await investigate("why?", StaticToolset([]), reasoner=reasoner)
    top = diagnosis.root_causes[0]
    assert (top.category, top.remediation_class) == ("runtime", "add-resources")
    assert top.evidence_ids == ("e1",)
    assert top.resource == WEB


async def test_empty_plan_ends_as_exhausted_with_no_root_causes() -> None:
    diagnosis = await investigate("anything?", StaticToolset([]), reasoner=ScriptedReasoner([]))
    assert diagnosis.outcome is Outcome.EXHAUSTED
    assert diagnosis.root_causes == ()
    assert "no candidate root cause" in diagnosis.summary


async def test_tool_result_with_no_data_status_is_recorded_as_such() -> None:
    reasoner = ScriptedReasoner([[PODS]])
    toolset = StaticToolset([("kubectl_get", {}, ToolResult(ToolStatus.NO_DATA, ""))])
    diagnosis = await investigate("?", toolset, reasoner=reasoner)
    assert diagnosis.evidence[0].status == "no_data"


async def test_wall_time_budget_cuts_a_hanging_call_and_ends_the_run() -> None:
    plans = [[ToolCall("db_stats", {"database": "orders"}), PODS]]
    toolset = StaticToolset([("kubectl_get", {}, "ok")], hang=["db_stats"])
    limits = Limits(call_timeout_s=30, wall_time_s=0.05)
    diagnosis = (await _run(ScriptedReasoner(plans), toolset, limits))[-1]
    assert isinstance(diagnosis, Diagnosis)
    assert diagnosis.outcome is Outcome.BUDGET_EXHAUSTED
    assert [e.status for e in diagnosis.evidence] == ["timeout"]
