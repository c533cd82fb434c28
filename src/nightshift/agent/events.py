"""Events the agent loop streams out, one per observable step.

The control plane stores them append-only as investigation events and
replays them to operators; the payload is plain JSON-able data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class EventKind(StrEnum):
    INVESTIGATION_STARTED = "investigation.started"
    HYPOTHESIS_CREATED = "hypothesis.created"
    HYPOTHESIS_UPDATED = "hypothesis.updated"
    HYPOTHESIS_CONFIRMED = "hypothesis.confirmed"
    HYPOTHESIS_REJECTED = "hypothesis.rejected"
    TOOL_REQUESTED = "tool.requested"
    TOOL_ANSWERED = "tool.answered"
    CYCLE_FINISHED = "cycle.finished"
    BREAKER_TRIPPED = "breaker.tripped"
    BUDGET_EXHAUSTED = "budget.exhausted"
    ACTION_PROPOSED = "action.proposed"
    POLICY_DECISION = "policy.decision"  # a governed tool call's decision, for the audit
    RESULT = "result"
    LOG = "log"
    LLM_CALL = "llm.call"  # one model round trip: model, tokens, latency, cost, error
    LLM_CONSULTED = "llm.consulted"  # why the hybrid reasoner handed over to the model


@dataclass(frozen=True, slots=True)
class AgentEvent:
    kind: EventKind
    data: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind.value, "data": dict(self.data)}
