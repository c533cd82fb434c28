"""A candidate tool call and its value, priced by the tool's cost hint."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nightshift.agent.reasoners.offline.topology import Topology
from nightshift.agent.tools.catalog import BY_NAME
from nightshift.agent.tools.protocol import ToolCall


@dataclass(frozen=True, slots=True)
class Candidate:
    call: ToolCall
    value: float
    why: str


def candidate(tool: str, value: float, why: str, /, **params: Any) -> Candidate:
    clean = {k: v for k, v in params.items() if v is not None}
    cost = BY_NAME[tool].cost_hint if tool in BY_NAME else 1.0
    return Candidate(ToolCall(tool, clean), value / max(cost, 0.5) ** 0.5, why)


def named(pod: str, topo: Topology) -> bool:
    return any(n == pod or n in pod for n in topo.names)
