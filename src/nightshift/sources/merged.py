"""Many sources, one toolset: each call goes to every source that offers the tool.

Several sources may answer the same tool (``recent_changes`` from the cluster and
from the change feed; ``security_events`` from events and the log store). Their
answers are concatenated under a header naming the source, so evidence always
says where it came from.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from nightshift.agent.tools.protocol import ToolCall, ToolResult, Toolset, ToolSpec, ToolStatus

_RANK = {ToolStatus.OK: 0, ToolStatus.NO_DATA: 1, ToolStatus.TIMEOUT: 2, ToolStatus.ERROR: 3}


class MergedToolset:
    def __init__(self, parts: Sequence[tuple[str, Toolset]]) -> None:
        self._parts = tuple(parts)
        specs: dict[str, ToolSpec] = {}
        self._offering: dict[str, list[tuple[str, Toolset]]] = {}
        for name, toolset in self._parts:
            for spec in toolset.specs():
                specs.setdefault(spec.name, spec)
                self._offering.setdefault(spec.name, []).append((name, toolset))
        self._specs = tuple(specs.values())

    @property
    def parts(self) -> tuple[tuple[str, Toolset], ...]:
        return self._parts

    def specs(self) -> Sequence[ToolSpec]:
        return self._specs

    async def call(self, call: ToolCall) -> ToolResult:
        offering = self._offering.get(call.name)
        if not offering:
            why = f"no configured source answers {call.name}"
            return ToolResult(ToolStatus.NO_DATA, why, error=why)
        if len(offering) == 1:
            return await offering[0][1].call(call)
        results = await asyncio.gather(*(t.call(call) for _, t in offering))
        return _combine([(name, r) for (name, _), r in zip(offering, results, strict=True)])


def _combine(answers: Sequence[tuple[str, ToolResult]]) -> ToolResult:
    best = min((r.status for _, r in answers), key=lambda s: _RANK.get(s, 4))
    text = "\n".join(
        f"=== source {name} ===\n{r.text or r.error or '(no answer)'}" for name, r in answers
    )
    data: dict[str, Any] = {name: dict(r.data) for name, r in answers if r.data is not None}
    errors = [f"{name}: {r.error}" for name, r in answers if r.error]
    return ToolResult(
        best, text, {"sources": data} if data else None, "; ".join(errors) if errors else None
    )
