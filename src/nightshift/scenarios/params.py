"""Checking a tool call's params against the tool's JSON schema (the subset we use).

A bad call is the caller's mistake, reported as a clear ERROR result; it must
never raise into the agent loop.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "boolean": (bool,),
    "number": (int, float),
    "object": (dict,),
    "array": (list,),
}


def param_problems(schema: Mapping[str, Any], params: object) -> list[str]:
    if not isinstance(params, Mapping):
        return ["params must be an object"]
    props: Mapping[str, Any] = schema.get("properties", {})
    problems = [
        f"missing required parameter '{r}'"
        for r in schema.get("required", [])
        if params.get(r) is None
    ]
    for key, value in params.items():
        spec = props.get(key)
        if spec is None:
            if schema.get("additionalProperties") is False:
                problems.append(f"unknown parameter '{key}' (allowed: {', '.join(sorted(props))})")
            continue
        if value is None:
            continue
        expected = _TYPES.get(str(spec.get("type")), (object,))
        if isinstance(value, bool) and bool not in expected:
            problems.append(f"parameter '{key}' must be {spec.get('type')}, got boolean")
            continue
        if not isinstance(value, expected):
            problems.append(
                f"parameter '{key}' must be {spec.get('type')}, got {type(value).__name__}"
            )
            continue
        if "enum" in spec and value not in spec["enum"]:
            problems.append(f"parameter '{key}' must be one of {spec['enum']}, got {value!r}")
        if "minimum" in spec and value < spec["minimum"]:
            problems.append(f"parameter '{key}' must be >= {spec['minimum']}")
        if "maximum" in spec and value > spec["maximum"]:
            problems.append(f"parameter '{key}' must be <= {spec['maximum']}")
    return problems
