"""The fault taxonomy: a versioned catalog of fault types, loaded from YAML.

The catalog is data (``taxonomy.yaml`` beside this module) so operators can
read and extend it without touching code; this module only parses and
validates it. Fault ids are stable: scenario ground truths, verdicts and
phase-gate statistics refer to them (see docs/taxonomy.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from nightshift.domain.safe_yaml import safe_load
from nightshift.domain.vocabulary import Domain

_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_REQUIRED = ("id", "category", "domain", "title", "symptoms", "confirm", "remediation")


class TaxonomyError(ValueError):
    """The catalog file is malformed (a bad id, a missing field, a duplicate)."""


@dataclass(frozen=True, slots=True)
class FaultType:
    id: str
    category: str
    domain: Domain
    title: str
    symptoms: tuple[str, ...]
    confirm: str
    remediation: str
    deprecated: bool = False
    replaced_by: str | None = None


@dataclass(frozen=True, slots=True)
class Taxonomy:
    version: str
    faults: Mapping[str, FaultType]
    remediation_classes: Mapping[str, str]

    def __contains__(self, fault_id: object) -> bool:
        return fault_id in self.faults

    def __iter__(self) -> Iterator[FaultType]:
        return iter(self.faults.values())

    def __len__(self) -> int:
        return len(self.faults)

    def get(self, fault_id: str) -> FaultType:
        """The fault for ``fault_id``; unknown ids map to the ``unknown`` fault."""
        return self.faults.get(fault_id) or self.faults["unknown"]

    def categories(self) -> frozenset[str]:
        return frozenset(f.category for f in self.faults.values())


def parse_taxonomy(document: Mapping[str, Any]) -> Taxonomy:
    """Validate a parsed YAML document and build the catalog."""
    version = str(document.get("version", ""))
    if not re.fullmatch(r"\d+\.\d+\.\d+", version):
        raise TaxonomyError(f"taxonomy version must be semver, got {version!r}")
    classes = {str(k): str(v) for k, v in dict(document.get("remediation_classes", {})).items()}
    faults: dict[str, FaultType] = {}
    for raw in document.get("faults", []):
        missing = [k for k in _REQUIRED if k not in raw]
        if missing:
            raise TaxonomyError(f"fault {raw.get('id', '?')!r} lacks {missing}")
        fid = str(raw["id"])
        if not _ID.match(fid):
            raise TaxonomyError(f"fault id {fid!r} is not kebab-case")
        if fid in faults:
            raise TaxonomyError(f"duplicate fault id {fid!r}")
        remediation = str(raw["remediation"])
        if remediation not in classes:
            raise TaxonomyError(f"fault {fid!r} uses unknown remediation class {remediation!r}")
        faults[fid] = FaultType(
            id=fid,
            category=str(raw["category"]),
            domain=Domain(str(raw["domain"])),
            title=str(raw["title"]),
            symptoms=tuple(str(s) for s in raw["symptoms"]),
            confirm=str(raw["confirm"]),
            remediation=remediation,
            deprecated=bool(raw.get("deprecated", False)),
            replaced_by=raw.get("replaced_by"),
        )
    if "unknown" not in faults:
        raise TaxonomyError("taxonomy must define the 'unknown' fallback fault")
    for fault in faults.values():
        if fault.replaced_by is not None and fault.replaced_by not in faults:
            raise TaxonomyError(f"{fault.id} is replaced by missing {fault.replaced_by!r}")
    return Taxonomy(version=version, faults=faults, remediation_classes=classes)


@cache
def load_taxonomy() -> Taxonomy:
    """The built-in catalog shipped with the package (parsed once)."""
    text = resources.files("nightshift.domain").joinpath("taxonomy.yaml").read_text("utf-8")
    return parse_taxonomy(safe_load(text))
