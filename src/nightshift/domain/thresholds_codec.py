"""Thresholds from JSON, validated strictly field by field.

Thresholds are stored as JSON and edited by people, so a typo or a wrong
type must be refused naming the field: an ignored ``auto_execute_confidenc``
would silently leave the real key as it was, and a stored ``"many"`` would
break every later gate evaluation. The rules come from the dataclasses
themselves, so a new threshold field is validated without touching this file.
"""

from __future__ import annotations

import math
from dataclasses import fields, replace
from typing import Any, TypeVar

from nightshift.domain.agents import AgentThresholds, DemotionThresholds, PromotionThresholds
from nightshift.domain.vocabulary import Role

T = TypeVar("T", PromotionThresholds, DemotionThresholds)
_PROMOTIONS = ("to_assist", "to_limited", "to_autonomous")
# Fractions (rates, confidences) must lie in [0, 1]; counts are never negative.
_FRACTION_WORDS = ("rate", "confidence", "accuracy", "correctness")


def thresholds_from(data: Any) -> AgentThresholds:
    """Seed defaults, overridden by exactly the fields ``data`` names."""
    if not isinstance(data, dict):
        raise ValueError("thresholds must be a JSON object")
    base = AgentThresholds()
    allowed = {"auto_execute_confidence", "demotion", *_PROMOTIONS}
    _no_unknown(data, allowed, "")
    out = base
    if "auto_execute_confidence" in data:
        value = _number("auto_execute_confidence", data["auto_execute_confidence"], "float")
        out = replace(out, auto_execute_confidence=value)
    for key in _PROMOTIONS:
        if key in data:
            out = replace(out, **{key: _section(getattr(out, key), data[key], key)})
    if "demotion" in data:
        out = replace(out, demotion=_section(out.demotion, data["demotion"], "demotion"))
    return out


def merged(stored: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """``update`` laid over ``stored``: sections merge key by key, so a write
    changes only what it names."""
    out = dict(stored)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = {**out[key], **value}
        else:
            out[key] = value
    return out


def _section(current: T, raw: Any, where: str) -> T:
    if not isinstance(raw, dict):
        raise ValueError(f"{where} must be a JSON object")
    kinds = {f.name: str(f.type) for f in fields(current)}
    _no_unknown(raw, set(kinds), f"{where}.")
    values: dict[str, Any] = {}
    for key, value in raw.items():
        values[key] = _field(f"{where}.{key}", value, kinds[key])
    return replace(current, **values)


def _field(name: str, value: Any, kind: str) -> Any:
    if kind.startswith("tuple[Role"):
        if not isinstance(value, list) or not value:
            raise ValueError(f"{name} must be a non-empty list of roles")
        try:
            return tuple(Role(v) for v in value)
        except ValueError:
            raise ValueError(f"{name}: unknown role in {value!r}") from None
    optional = kind.endswith("| None")
    if value is None:
        if optional:
            return None
        raise ValueError(f"{name} may not be null")
    return _number(name, value, kind.removesuffix(" | None").strip())


def _number(name: str, value: Any, kind: str) -> int | float:
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{name} must be an integer, got {_shown(value)}")
        if value < 0:
            raise ValueError(f"{name} must not be negative")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} must be a number, got {_shown(value)}")
    number = float(value)
    if not math.isfinite(number) or number < 0:
        raise ValueError(f"{name} must be a finite number >= 0")
    if any(w in name.rsplit(".", 1)[-1] for w in _FRACTION_WORDS) and number > 1:
        raise ValueError(f"{name} must be within [0, 1]")
    return number


def _no_unknown(data: dict[str, Any], allowed: set[str], prefix: str) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        names = ", ".join(f"{prefix}{k}" for k in unknown)
        raise ValueError(
            f"unknown threshold field(s): {names} (known: {', '.join(sorted(allowed))})"
        )


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
