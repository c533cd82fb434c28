"""Kubernetes label selectors: does a selector pick a set of labels, and kubectl's text for it.

Rules as the API server applies them: every ``matchLabels`` pair and every
``matchExpressions`` requirement must hold; an empty selector selects
everything. ``NotIn`` and ``DoesNotExist`` hold when the key is absent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class SelectorError(ValueError):
    """The selector is not one the API server would accept (unknown operator, bad values)."""


def matches(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    if not selector:
        return True
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    return all(_requirement(expr, labels) for expr in selector.get("matchExpressions") or [])


def _requirement(expr: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    key = str(expr.get("key", ""))
    op = str(expr.get("operator", ""))
    values = [str(v) for v in expr.get("values") or []]
    if op in ("In", "NotIn") and not values:
        raise SelectorError(f"operator {op} on {key!r} needs at least one value")
    if op in ("Exists", "DoesNotExist") and values:
        raise SelectorError(f"operator {op} on {key!r} takes no values")
    if op == "In":
        return key in labels and labels[key] in values
    if op == "NotIn":
        return key not in labels or labels[key] not in values
    if op == "Exists":
        return key in labels
    if op == "DoesNotExist":
        return key not in labels
    raise SelectorError(f"unknown selector operator {op!r} on {key!r}")


def selector_text(selector: Mapping[str, Any] | None) -> str:
    """kubectl's string form (``app=web,tier in (a,b),!legacy``); ``""`` for empty."""
    if not selector:
        return ""
    parts = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expr in selector.get("matchExpressions") or []:
        key, op = expr.get("key", ""), expr.get("operator", "")
        values = ",".join(sorted(str(v) for v in expr.get("values") or []))
        if op == "In":
            parts.append(f"{key} in ({values})")
        elif op == "NotIn":
            parts.append(f"{key} notin ({values})")
        elif op == "Exists":
            parts.append(str(key))
        elif op == "DoesNotExist":
            parts.append(f"!{key}")
        else:
            parts.append(f"{key} {op} ({values})")
    return ",".join(parts)


def query_for(labels: Mapping[str, str]) -> str:
    """An equality ``labelSelector`` query for exact labels (a Service's selector)."""
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
