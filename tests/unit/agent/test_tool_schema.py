"""One schema check for tool params and model answers: the world and the LLM
reasoner accept and refuse the same calls, with the same words."""

from __future__ import annotations

from typing import Any

from nightshift.agent.tools.schema import schema_problems

LOGS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "pod": {"type": "string", "maxLength": 253},
        "tail": {"type": "integer", "minimum": 1, "maximum": 10_000},
        "previous": {"type": "boolean"},
    },
    "required": ["pod"],
    "additionalProperties": False,
}


def test_a_null_optional_parameter_counts_as_not_given() -> None:
    assert schema_problems({"pod": "web-0", "tail": None}, LOGS) == []


def test_a_required_parameter_given_as_null_is_missing() -> None:
    assert schema_problems({"pod": None}, LOGS) == ["missing required parameter 'pod'"]


def test_a_boolean_is_not_an_integer() -> None:
    assert schema_problems({"pod": "p", "tail": True}, LOGS) == [
        "parameter 'tail' must be integer, got boolean"
    ]


def test_unknown_parameters_name_the_allowed_ones() -> None:
    assert schema_problems({"pod": "p", "colour": "red"}, LOGS) == [
        "unknown parameter 'colour' (allowed: pod, previous, tail)"
    ]


def test_nested_problems_name_their_path_and_every_problem_is_reported() -> None:
    answer = {
        "type": "object",
        "properties": {
            "hypotheses": {
                "type": "array",
                "maxItems": 2,
                "items": {
                    "type": "object",
                    "properties": {"confidence": {"type": "number", "maximum": 1}},
                },
            }
        },
    }
    got = schema_problems({"hypotheses": [{"confidence": 3}, {"confidence": 0.5}, {}]}, answer)
    assert got == [
        "parameter 'hypotheses' must have at most 2 items",
        "parameter 'hypotheses[0].confidence' must be <= 1",
    ]


def test_non_finite_numbers_are_refused() -> None:
    schema = {"type": "object", "properties": {"x": {"type": "number"}}}
    assert schema_problems({"x": float("nan")}, schema) == ["parameter 'x' must be a finite number"]


def test_params_that_are_not_an_object_are_refused() -> None:
    assert schema_problems(["pod"], LOGS) == ["params must be an object"]
