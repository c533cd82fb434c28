"""The remediation action catalog and the agent's proposal of one action.

The catalog is data (``actions.yaml`` beside this module) so operators can
extend it without code: each action states its risk, reversibility (and the
inverse that undoes it), blast radius, the remediation classes it implements,
and the minimum authority class and trust phase to propose it and to execute
it without a human. Policy reads these columns; nothing here decides.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any

from nightshift.domain.diagnosis import ResourceRef
from nightshift.domain.safe_yaml import safe_load
from nightshift.domain.vocabulary import AuthorityClass, Domain, TrustPhase

_NAME = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_REQUIRED = (
    "name",
    "description",
    "domain",
    "risk",
    "scope",
    "reversible",
    "inverse",
    "remediation_classes",
    "dry_run",
    "propose",
    "auto_execute",
)


class CatalogError(ValueError):
    """The action catalog is malformed; the message names the action and field."""


class RiskClass(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class BlastRadius(StrEnum):
    POD = "pod"
    DEPLOYMENT = "deployment"
    NODE = "node"
    RULE = "rule"
    CHANGE = "change"  # one recorded change (config, schema, policy, chart), by its id

    @property
    def namespaced(self) -> bool:
        return self in (BlastRadius.POD, BlastRadius.DEPLOYMENT)


@dataclass(frozen=True, slots=True)
class Requirement:
    """Minimum authority class and trust phase for one permission column."""

    min_class: AuthorityClass
    min_phase: TrustPhase

    def met_by(self, authority_class: AuthorityClass, phase: TrustPhase) -> bool:
        return authority_class.rank >= self.min_class.rank and phase.rank >= self.min_phase.rank


@dataclass(frozen=True, slots=True)
class ActionSpec:
    name: str
    description: str
    domain: Domain
    risk: RiskClass
    scope: BlastRadius
    reversible: bool
    inverse: str | None
    remediation_classes: frozenset[str]
    dry_run: bool
    propose: Requirement
    auto_execute: Requirement | None  # None: a human approves it in every phase


@dataclass(frozen=True, slots=True)
class ActionCatalog:
    version: str
    actions: Mapping[str, ActionSpec]

    def __contains__(self, name: object) -> bool:
        return name in self.actions

    def __iter__(self) -> Iterator[ActionSpec]:
        return iter(self.actions.values())

    def __len__(self) -> int:
        return len(self.actions)

    def get(self, name: str) -> ActionSpec | None:
        return self.actions.get(name)

    def implementing(self, remediation_class: str) -> tuple[ActionSpec, ...]:
        """Actions that carry out a remediation class, lowest risk first."""
        order = list(RiskClass)
        found = [a for a in self.actions.values() if remediation_class in a.remediation_classes]
        return tuple(sorted(found, key=lambda a: (order.index(a.risk), a.name)))


@dataclass(frozen=True, slots=True)
class ActionProposal:
    """What an agent asks for: an action on a target, with the intent behind it."""

    action: str
    target: ResourceRef
    confidence: float
    hypothesis_id: str | None = None
    rationale: str = ""
    dry_run: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "target": self.target.to_dict(),
            "confidence": round(self.confidence, 4),
            "hypothesis_id": self.hypothesis_id,
            "rationale": self.rationale,
            "dry_run": self.dry_run,
        }


def _requirement(action: str, column: str, raw: Any) -> Requirement:
    if not isinstance(raw, Mapping) or set(raw) != {"class", "phase"}:
        raise CatalogError(f"action {action!r}: {column} must be {{class, phase}}")
    try:
        return Requirement(AuthorityClass(str(raw["class"])), TrustPhase(str(raw["phase"])))
    except ValueError as exc:
        raise CatalogError(f"action {action!r}: {column}: {exc}") from None


def _action(raw: Mapping[str, Any]) -> ActionSpec:
    name = str(raw.get("name", "?"))
    missing = [k for k in _REQUIRED if k not in raw]
    if missing:
        raise CatalogError(f"action {name!r} lacks {missing}")
    unknown = sorted(set(raw) - set(_REQUIRED))
    if unknown:
        raise CatalogError(f"action {name!r} has unknown fields {unknown}")
    if not _NAME.match(name):
        raise CatalogError(f"action name {name!r} is not kebab-case")
    try:
        domain, risk, scope = (
            Domain(raw["domain"]),
            RiskClass(raw["risk"]),
            BlastRadius(raw["scope"]),
        )
    except ValueError as exc:
        raise CatalogError(f"action {name!r}: {exc}") from None
    classes = raw["remediation_classes"]
    if not isinstance(classes, list) or not classes:
        raise CatalogError(f"action {name!r} must implement at least one remediation class")
    inverse = raw["inverse"]
    reversible = raw["reversible"]
    if not isinstance(reversible, bool) or not isinstance(raw["dry_run"], bool):
        raise CatalogError(f"action {name!r}: reversible and dry_run must be booleans")
    if reversible != (inverse is not None):
        raise CatalogError(f"action {name!r}: reversible actions name an inverse, others none")
    propose = _requirement(name, "propose", raw["propose"])
    auto = (
        None
        if raw["auto_execute"] is None
        else _requirement(name, "auto_execute", raw["auto_execute"])
    )
    if auto is not None and (
        auto.min_class.rank < propose.min_class.rank
        or auto.min_phase is not TrustPhase.AUTONOMOUS_L1
    ):
        raise CatalogError(
            f"action {name!r}: auto_execute needs phase autonomous-l1 and at least the "
            "class required to propose"
        )
    return ActionSpec(
        name=name,
        description=str(raw["description"]),
        domain=domain,
        risk=risk,
        scope=scope,
        reversible=reversible,
        inverse=None if inverse is None else str(inverse),
        remediation_classes=frozenset(str(c) for c in classes),
        dry_run=raw["dry_run"],
        propose=propose,
        auto_execute=auto,
    )


def parse_action_catalog(document: Mapping[str, Any]) -> ActionCatalog:
    """Validate a parsed YAML document and build the catalog."""
    version = str(document.get("version", ""))
    if not re.fullmatch(r"\d+\.\d+\.\d+", version):
        raise CatalogError(f"catalog version must be semver, got {version!r}")
    actions: dict[str, ActionSpec] = {}
    for raw in document.get("actions") or []:
        if not isinstance(raw, Mapping):
            raise CatalogError("every action must be a mapping")
        spec = _action(raw)
        if spec.name in actions:
            raise CatalogError(f"duplicate action {spec.name!r}")
        actions[spec.name] = spec
    for spec in actions.values():
        if spec.inverse is not None and spec.inverse not in actions:
            raise CatalogError(f"action {spec.name!r} names missing inverse {spec.inverse!r}")
    if not actions:
        raise CatalogError("the catalog defines no actions")
    return ActionCatalog(version=version, actions=actions)


@cache
def load_action_catalog() -> ActionCatalog:
    """The built-in catalog shipped with the package (parsed once)."""
    text = resources.files("nightshift.domain").joinpath("actions.yaml").read_text("utf-8")
    return parse_action_catalog(safe_load(text))
