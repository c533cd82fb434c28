"""The HolmesGPT fixture adapter translates canonical calls to recorded ones."""

from __future__ import annotations

import json
from pathlib import Path

from nightshift.agent.tools.holmes_fixtures import HolmesFixtureToolset
from nightshift.agent.tools.protocol import ToolCall, ToolStatus


def _record(case: Path, file: str, tool: str, match: dict[str, object], body: str) -> None:
    head = {"toolset_name": "kubernetes/core", "tool_name": tool, "match_params": match}
    meta = {"status": "success", "params": match}
    case.joinpath(file).write_text(
        f"{json.dumps(head)}\n{json.dumps(meta)}\nstdout:\n{body}\n\nstderr:\n", encoding="utf-8"
    )


def _case(tmp_path: Path) -> Path:
    case = tmp_path / "case"
    case.mkdir()
    _record(
        case,
        "describe.txt",
        "kubectl_describe",
        {"kind": "pod", "name": "web-7d9f8b6c5d-x2x4z", "namespace": "app-1"},
        "Name: web",
    )
    _record(
        case,
        "find.txt",
        "kubectl_find_resource",
        {"kind": "pod", "keyword": "web"},
        "default web-7d9f8b6c5d-x2x4z 0/1 Pending 0 1m",
    )
    _record(
        case,
        "logs.txt",
        "fetch_pod_logs",
        {"pod_name": "web-7d9f8b6c5d-x2x4z", "namespace": "app-1", "limit": 100, "filter": None},
        "boom",
    )
    return case


async def test_describe_translates_and_strips_the_stdout_wrapper(tmp_path: Path) -> None:
    tools = HolmesFixtureToolset(_case(tmp_path))
    result = await tools.call(
        ToolCall(
            "kubectl_describe",
            {"kind": "pods", "name": "web-7d9f8b6c5d-x2x4z", "namespace": "app-1"},
        )
    )
    assert result.status is ToolStatus.OK
    assert result.text == "Name: web"


async def test_get_by_name_falls_back_to_keyword_search(tmp_path: Path) -> None:
    tools = HolmesFixtureToolset(_case(tmp_path))
    result = await tools.call(ToolCall("kubectl_get", {"kind": "pod", "name": "web"}))
    assert "Pending" in result.text


async def test_logs_ignore_their_log_options_we_cannot_express(tmp_path: Path) -> None:
    tools = HolmesFixtureToolset(_case(tmp_path))
    result = await tools.call(
        ToolCall("kubectl_logs", {"pod": "web-7d9f8b6c5d-x2x4z", "namespace": "app-1"})
    )
    assert result.text == "boom"


async def test_namespace_renamed_in_the_corpus_is_matched_softly(tmp_path: Path) -> None:
    tools = HolmesFixtureToolset(_case(tmp_path))
    result = await tools.call(
        ToolCall(
            "kubectl_describe",
            {"kind": "pod", "name": "web-7d9f8b6c5d-x2x4z", "namespace": "default"},
        )
    )
    assert result.status is ToolStatus.OK


async def test_unrecorded_call_is_no_data(tmp_path: Path) -> None:
    tools = HolmesFixtureToolset(_case(tmp_path))
    result = await tools.call(ToolCall("kubectl_describe", {"kind": "node", "name": "n1"}))
    assert result.status is ToolStatus.NO_DATA
