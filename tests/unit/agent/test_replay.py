"""Recording a run to a bundle and replaying it gives the same answers."""

from __future__ import annotations

from pathlib import Path

import pytest

from nightshift.agent.investigation import investigate
from nightshift.agent.request import InvestigationRequest
from nightshift.agent.tools.protocol import ToolCall, ToolStatus
from nightshift.agent.tools.replay import RecordingToolset, ReplayToolset
from nightshift.agent.tools.static import StaticToolset
from tests.unit.agent import kube_texts as k


def _world() -> StaticToolset:
    return StaticToolset(
        [
            ("kubectl_get", {"kind": "pods"}, k.PODS_OOM),
            ("kubectl_describe", {"name": "api-7d9f8b6c5d-x2x4z"}, k.DESCRIBE_OOM),
        ]
    )


@pytest.mark.parametrize("bundle", ["run.jsonl", "run-dir"])
async def test_replayed_bundle_reproduces_the_diagnosis(tmp_path: Path, bundle: str) -> None:
    request = InvestigationRequest("api keeps restarting", namespace="shop")
    recorder = RecordingToolset(_world())
    live = await investigate(request, recorder)
    path = recorder.save(tmp_path / bundle)
    replayed = await investigate(request, ReplayToolset.load(path))
    assert replayed.top is not None and live.top is not None
    assert replayed.top.fault == live.top.fault == "oom-killed"
    assert [e.status for e in replayed.evidence] == [e.status for e in live.evidence]


async def test_call_without_recording_is_no_data(tmp_path: Path) -> None:
    recorder = RecordingToolset(_world())
    await recorder.call(ToolCall("kubectl_get", {"kind": "pods"}))
    replay = ReplayToolset.load(recorder.save(tmp_path / "b.jsonl"))
    missing = await replay.call(ToolCall("db_stats", {"database": "orders"}))
    assert missing.status is ToolStatus.NO_DATA


async def test_recorded_params_subset_answers_a_more_specific_call(tmp_path: Path) -> None:
    recorder = RecordingToolset(_world())
    await recorder.call(ToolCall("kubectl_get", {"kind": "pods"}))
    replay = ReplayToolset.load(recorder.save(tmp_path / "b.jsonl"))
    hit = await replay.call(ToolCall("kubectl_get", {"kind": "pods", "output": "wide"}))
    assert hit.status is ToolStatus.OK
    assert "CrashLoopBackOff" in hit.text
