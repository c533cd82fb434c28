"""The model's answer contract and its validation.

The model answers with native tool calls only: zero or more read tools from
the offered catalog (the next checks) and exactly one ``assess`` call (its
hypothesis updates and whether it is done). Everything is validated here
against the tools' JSON schemas and the fault taxonomy; an invalid answer is
rejected with a message the model gets on its retry. Nothing the model
writes is executed here: accepted tool calls still pass the policy wrapper.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from nightshift.agent.reasoners.llm.provider import ChatResponse, ModelToolCall, ToolDef
from nightshift.agent.reasoners.protocol import HypothesisUpdate
from nightshift.agent.tools.protocol import ToolCall, ToolSpec
from nightshift.agent.tools.schema import schema_problems
from nightshift.domain.diagnosis import EvidenceStance, ResourceRef

ASSESS = "assess"
MAX_HYPOTHESES = 8
MAX_CALLS = 6

ASSESS_TOOL = ToolDef(
    name=ASSESS,
    description=(
        "Report your hypothesis updates (call exactly once per answer). "
        "resource: 'namespace/kind/name' or 'kind/name'; fault: a taxonomy id; "
        "done: true when the evidence suffices or nothing useful is left to ask."
    ),
    parameters={
        "type": "object",
        "properties": {
            "hypotheses": {
                "type": "array",
                "maxItems": MAX_HYPOTHESES,
                "items": {
                    "type": "object",
                    "properties": {
                        "resource": {"type": "string"},
                        "fault": {"type": "string"},
                        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
                        "stance": {"type": "string", "enum": ["supports", "refutes"]},
                        "why": {"type": "string", "maxLength": 300},
                    },
                    "required": ["resource", "fault", "confidence"],
                    "additionalProperties": False,
                },
            },
            "done": {"type": "boolean"},
        },
        "required": ["hypotheses", "done"],
        "additionalProperties": False,
    },
)


def tool_defs(specs: Sequence[ToolSpec]) -> tuple[ToolDef, ...]:
    """The offered read tools plus ``assess``, in a stable order (a stable
    prefix is what providers cache)."""
    reads = tuple(
        ToolDef(s.name, s.description, s.parameters)
        for s in sorted(specs, key=lambda s: s.name)
        if s.read_only
    )
    return (*reads, ASSESS_TOOL)


def wire_defs(tools: Sequence[ToolDef]) -> tuple[ToolDef, ...]:
    """What is sent: the same tools without ``additionalProperties`` (the
    validator still enforces it; the model does not need to read it 16 times)."""
    return tuple(ToolDef(t.name, t.description, _lean(t.parameters)) for t in tools)


def _lean(schema: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "additionalProperties":
            continue
        if key == "properties" and isinstance(value, Mapping):
            out[key] = {name: _lean(sub) for name, sub in value.items()}
        elif key == "items" and isinstance(value, Mapping):
            out[key] = _lean(value)
        else:
            out[key] = value
    return out


@dataclass(frozen=True, slots=True)
class Answer:
    calls: tuple[ToolCall, ...]
    updates: tuple[HypothesisUpdate, ...]
    done: bool


class AnswerInvalid(ValueError):
    """The answer broke the contract; ``str(self)`` is what the model is told."""

    def __init__(self, errors: Sequence[str], attempted: Sequence[ModelToolCall]) -> None:
        super().__init__("; ".join(errors))
        self.errors = tuple(errors)
        self.attempted = tuple(attempted)


def parse_answer(
    response: ChatResponse, tools: Sequence[ToolDef], faults: frozenset[str]
) -> Answer:
    by_name = {t.name: t for t in tools}
    errors: list[str] = []
    calls: list[ToolCall] = []
    assess: list[Mapping[str, Any]] = []
    for tc in response.tool_calls:
        args = _arguments(tc, errors)
        if args is None:
            continue
        tool = by_name.get(tc.name)
        if tool is None:
            errors.append(f"tool {tc.name!r} is not offered; use only the listed tools")
            continue
        found = [f"{tc.name}: {p}" for p in schema_problems(args, tool.parameters)]
        if found:
            errors.extend(found)
        elif tc.name == ASSESS:
            assess.append(args)
        else:
            calls.append(ToolCall(tc.name, args))
    if len(assess) != 1 and not errors:
        errors.append(f"call {ASSESS} exactly once (got {len(assess)})")
    if len(calls) > MAX_CALLS:
        errors.append(f"at most {MAX_CALLS} tool calls per answer (got {len(calls)})")
    updates = _updates(assess[0], faults, errors) if len(assess) == 1 else ()
    if errors:
        raise AnswerInvalid(errors[:8], response.tool_calls)
    done = bool(assess[0].get("done"))
    return Answer(tuple(calls), updates, done)


def _arguments(tc: ModelToolCall, errors: list[str]) -> dict[str, Any] | None:
    try:
        args = json.loads(tc.arguments or "{}")
    except json.JSONDecodeError as exc:
        errors.append(f"{tc.name}: arguments are not valid JSON ({exc.msg} at {exc.pos})")
        return None
    if not isinstance(args, dict):
        errors.append(f"{tc.name}: arguments must be a JSON object")
        return None
    return args


def parse_resource(text: str) -> ResourceRef | None:
    parts = [p for p in text.strip().split("/") if p]
    if len(parts) == 2:
        return ResourceRef(parts[0], parts[1])
    if len(parts) == 3:
        return ResourceRef(parts[1], parts[2], parts[0])
    return None


def _updates(
    args: Mapping[str, Any], faults: frozenset[str], errors: list[str]
) -> tuple[HypothesisUpdate, ...]:
    out: list[HypothesisUpdate] = []
    for i, item in enumerate(args.get("hypotheses", ())):
        ref = parse_resource(str(item["resource"]))
        if ref is None:
            errors.append(f"hypotheses[{i}].resource must be 'namespace/kind/name' or 'kind/name'")
            continue
        fault = str(item["fault"])
        if fault not in faults:
            errors.append(f"hypotheses[{i}].fault {fault!r} is not a taxonomy id")
            continue
        stance = EvidenceStance(item.get("stance", "supports"))
        why = str(item.get("why", ""))
        out.append(HypothesisUpdate(ref, fault, float(item["confidence"]), stance, why))
    return tuple(out)
