"""One check of a value against a tool's JSON schema, for every caller.

The simulated world checks the params of each call it answers; the LLM reasoner
checks a model's tool calls and its structured answer before anything runs. Both
use this module (the ``jsonschema`` library, Draft 2020-12), so a call that one of
them accepts the other accepts too.

A JSON ``null`` counts as "not given": models send ``null`` for optional parameters,
and a required parameter given as ``null`` is missing. Messages name the parameter
the way a model or an operator would type it (``hypotheses[0].confidence``), so a
model can correct its call from them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

_JSON_TYPES = {
    bool: "boolean",
    int: "integer",
    float: "number",
    str: "string",
    list: "array",
    dict: "object",
}


def _given(value: Any) -> Any:
    """``value`` without the object members that are null, at every depth."""
    if isinstance(value, Mapping):
        return {k: _given(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_given(v) for v in value]
    return value


def _where(error: ValidationError) -> str:
    out = ""
    for part in error.absolute_path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _type_name(value: Any) -> str:
    return _JSON_TYPES.get(type(value), type(value).__name__)


def _message(error: ValidationError) -> str:
    where, rule = _where(error), error.validator
    # jsonschema types these as "maybe unset"; an error from iter_errors has them all.
    value: Any = error.instance
    expected: Any = error.validator_value
    schema: Any = error.schema
    subject = f"parameter '{where}'" if where else "params"
    if rule == "required":
        missing = [r for r in expected if r not in value]
        prefix = f"{where}: " if where else ""
        return f"{prefix}missing required parameter '{missing[0] if missing else '?'}'"
    if rule == "additionalProperties":
        allowed = sorted((schema.get("properties") or {}).keys())
        extra = sorted(k for k in value if k not in allowed)
        prefix = f"{where}: " if where else ""
        return f"{prefix}unknown parameter '{extra[0]}' (allowed: {', '.join(allowed)})"
    if rule == "type":
        return f"{subject} must be {expected}, got {_type_name(value)}"
    if rule == "enum":
        return f"{subject} must be one of {list(expected)}, got {value!r}"
    if rule == "minimum":
        return f"{subject} must be >= {expected}"
    if rule == "maximum":
        return f"{subject} must be <= {expected}"
    if rule == "maxLength":
        return f"{subject} must be at most {expected} characters long"
    if rule == "maxItems":
        return f"{subject} must have at most {expected} items"
    return f"{subject}: {error.message}"


def _non_finite(value: Any, where: str = "") -> list[str]:
    """JSON has no NaN or infinity, but Python's parser accepts them."""
    if isinstance(value, float) and not math.isfinite(value):
        return [f"parameter '{where}' must be a finite number"]
    if isinstance(value, Mapping):
        return [e for k, v in value.items() for e in _non_finite(v, f"{where}.{k}".lstrip("."))]
    if isinstance(value, list):
        return [e for i, v in enumerate(value) for e in _non_finite(v, f"{where}[{i}]")]
    return []


def schema_problems(value: Any, schema: Mapping[str, Any]) -> list[str]:
    """Every way ``value`` breaks ``schema``, in document order; empty when it fits."""
    if not isinstance(value, Mapping) and schema.get("type") == "object":
        return ["params must be an object"]
    given = _given(value)
    problems = _non_finite(given)
    errors = Draft202012Validator(schema).iter_errors(given)
    ordered = sorted(errors, key=lambda e: [str(p) for p in e.absolute_path])
    return problems + [_message(e) for e in ordered]
