"""Record any run to a bundle and answer later calls from it.

A bundle is JSON lines (one file) or a directory of ``NNNN.json`` files; each
record holds the call (name, params) and the result (status, text, data,
error); a leading ``{"specs": [...]}`` record lists the tools the recorded
toolset offered. Replay answers a call with the first record of the same tool
whose params equal the call's (exact), else the first whose recorded params
are a subset of the call's; anything else is ``NO_DATA``, never an error.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from nightshift.agent.tools.catalog import BY_NAME, CATALOG
from nightshift.agent.tools.protocol import ToolCall, ToolResult, Toolset, ToolSpec, ToolStatus


def _record(call: ToolCall, result: ToolResult) -> dict[str, Any]:
    return {
        "call": {"name": call.name, "params": dict(call.params)},
        "result": {
            "status": result.status.value,
            "text": result.text,
            "data": dict(result.data) if result.data is not None else None,
            "error": result.error,
        },
    }


class RecordingToolset:
    """Wraps a toolset and keeps every call and answer for a bundle."""

    def __init__(self, inner: Toolset) -> None:
        self.inner = inner
        self.records: list[dict[str, Any]] = []

    def specs(self) -> Sequence[ToolSpec]:
        return self.inner.specs()

    async def call(self, call: ToolCall) -> ToolResult:
        result = await self.inner.call(call)
        self.records.append(_record(call, result))
        return result

    def save(self, path: Path) -> Path:
        header = {"specs": [s.name for s in self.specs()]}
        if path.suffix in (".jsonl", ".json"):
            path.parent.mkdir(parents=True, exist_ok=True)
            lines = [json.dumps(r, sort_keys=True, default=str) for r in (header, *self.records)]
            path.write_text("\n".join(lines) + "\n", encoding="utf-8")
            return path
        path.mkdir(parents=True, exist_ok=True)
        (path / "0000.json").write_text(json.dumps(header), encoding="utf-8")
        for i, rec in enumerate(self.records, start=1):
            (path / f"{i:04d}.json").write_text(
                json.dumps(rec, sort_keys=True, default=str), encoding="utf-8"
            )
        return path


class ReplayToolset:
    """Answers calls from a recorded bundle."""

    def __init__(
        self, records: Sequence[Mapping[str, Any]], tools: Sequence[str] | None = None
    ) -> None:
        self.records = [r for r in records if "call" in r]
        names = tools or sorted({str(r["call"]["name"]) for r in self.records})
        self._specs = tuple(BY_NAME[n] for n in names if n in BY_NAME) or CATALOG

    @classmethod
    def load(cls, path: Path) -> ReplayToolset:
        if path.is_dir():
            raw = [json.loads(p.read_text("utf-8")) for p in sorted(path.glob("*.json"))]
        else:
            raw = [
                json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()
            ]
        header = next((r for r in raw if "specs" in r), None)
        return cls(raw, list(header["specs"]) if header else None)

    def specs(self) -> Sequence[ToolSpec]:
        return self._specs

    async def call(self, call: ToolCall) -> ToolResult:
        params = dict(call.params)
        same = [r for r in self.records if r["call"]["name"] == call.name]
        hit = next((r for r in same if dict(r["call"]["params"]) == params), None)
        if hit is None:
            hit = next(
                (
                    r
                    for r in same
                    if all(params.get(k) == v for k, v in dict(r["call"]["params"]).items())
                ),
                None,
            )
        if hit is None:
            return ToolResult(ToolStatus.NO_DATA, "", error="no recording for this call")
        res = hit["result"]
        return ToolResult(
            ToolStatus(res["status"]), str(res.get("text") or ""), res.get("data"), res.get("error")
        )
