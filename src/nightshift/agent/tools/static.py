"""A toolset answered from fixed rules: the fake for tests and small embeddings.

Each rule is (tool name, params subset, answer); the first rule whose name
matches and whose params are all equal in the call answers it. Answers may be
text, a ToolResult, or an exception to raise (to simulate a broken tool).
Calls matching no rule get ``NO_DATA``. Every call is kept in ``calls``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from nightshift.agent.tools.catalog import BY_NAME, CATALOG
from nightshift.agent.tools.protocol import ToolCall, ToolResult, ToolSpec, ToolStatus

Answer = str | ToolResult | BaseException
Rule = tuple[str, Mapping[str, Any], Answer]


class StaticToolset:
    def __init__(
        self,
        rules: Sequence[Rule],
        *,
        tools: Sequence[str] | None = None,
        hang: Sequence[str] = (),
    ) -> None:
        self.rules = list(rules)
        self.hang = set(hang)  # tool names that never answer (for timeout tests)
        self._specs = tuple(BY_NAME[n] for n in tools) if tools else CATALOG
        self.calls: list[ToolCall] = []

    def specs(self) -> Sequence[ToolSpec]:
        return self._specs

    async def call(self, call: ToolCall) -> ToolResult:
        self.calls.append(call)
        if call.name in self.hang:
            await asyncio.Event().wait()
        for name, params, answer in self.rules:
            if name == call.name and all(call.params.get(k) == v for k, v in params.items()):
                if isinstance(answer, BaseException):
                    raise answer
                if isinstance(answer, ToolResult):
                    return answer
                return ToolResult(ToolStatus.OK, answer)
        return ToolResult(ToolStatus.NO_DATA, "", error="no rule for this call")
