"""Boundary validation: contradictions are refused with every reason, nothing changed.

Boundaries are configuration on the identity (``domain.agents.Boundaries``);
this module knows the action catalog, so it can tell that an allowed action
acts in a domain that is not allowed, or that namespaced actions are allowed
with no namespace to act in.
"""

from __future__ import annotations

import math
import re

from nightshift.domain.actions import ActionCatalog
from nightshift.domain.agents import ALL_NAMESPACES, Boundaries
from nightshift.governance.containment import MAX_CHAIN_DEPTH

_NAMESPACE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


class BoundaryConflictError(ValueError):
    """Boundaries contradict each other; ``problems`` lists every contradiction."""

    def __init__(self, problems: tuple[str, ...]) -> None:
        super().__init__("boundaries contradict each other: " + "; ".join(problems))
        self.problems = problems


def validate_boundaries(boundaries: Boundaries, catalog: ActionCatalog) -> tuple[str, ...]:
    """Every contradiction in a boundary set, as a sentence; empty when consistent."""
    b = boundaries
    problems: list[str] = []
    if not 1 <= b.max_depth <= MAX_CHAIN_DEPTH:
        problems.append(f"max_depth must be between 1 and {MAX_CHAIN_DEPTH}, got {b.max_depth}")
    if b.max_fan_out < 0:
        problems.append(f"max_fan_out cannot be negative, got {b.max_fan_out}")
    if b.max_calls_per_minute < 1:
        problems.append(f"max_calls_per_minute must be at least 1, got {b.max_calls_per_minute}")
    for name, value in (
        ("max_tokens", b.max_tokens),
        ("max_cost_usd", b.max_cost_usd),
        ("max_wall_seconds", b.max_wall_seconds),
        ("max_tool_calls", b.max_tool_calls),
    ):
        if not math.isfinite(value) or value <= 0:
            problems.append(f"{name} must be a positive number, got {value!r}")
    for ns in sorted(b.namespaces):
        if ns != ALL_NAMESPACES and not _NAMESPACE.match(ns):
            problems.append(f"namespace {ns!r} is not a valid Kubernetes namespace name")
    unknown = sorted(a for a in b.action_types if a not in catalog)
    if unknown:
        problems.append(f"unknown action types {unknown}")
    known = [catalog.actions[a] for a in sorted(b.action_types) if a in catalog]
    if not b.domains and (known or b.namespaces):
        problems.append(
            "the domain set is empty, yet namespaces or action types are allowed; "
            "allow the domains they act in or remove them"
        )
    elif b.domains:
        for spec in known:
            if spec.domain not in b.domains:
                problems.append(
                    f"action {spec.name!r} acts in domain {spec.domain.value!r}, "
                    "which is not an allowed domain"
                )
    namespaced = [spec.name for spec in known if spec.scope.namespaced]
    if namespaced and not b.namespaces:
        problems.append(
            f"actions {namespaced} act on namespaced resources but no namespace is allowed"
        )
    return tuple(problems)


def require_valid_boundaries(boundaries: Boundaries, catalog: ActionCatalog) -> Boundaries:
    problems = validate_boundaries(boundaries, catalog)
    if problems:
        raise BoundaryConflictError(problems)
    return boundaries
