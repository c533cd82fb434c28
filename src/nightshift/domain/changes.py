"""The change feed's vocabulary: what kind of change, and what it touched.

Changes come from outside the cluster too (CI/CD, firewall automation,
schema migrations, feature-flag services); each names its target either as
a Kubernetes-style object or as free text ("fw-dc-edge ruleset mail-relays").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from nightshift.domain.vocabulary import Domain


class ChangeKind(StrEnum):
    DEPLOY = "deploy"
    CONFIG = "config"
    FIREWALL = "firewall"
    SCHEMA = "schema"
    FEATURE_FLAG = "feature-flag"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class ChangeTarget:
    kind: str = ""
    name: str = ""
    namespace: str = ""
    text: str = ""  # free-form, when the target is not an object

    def display(self) -> str:
        """``ns/Kind/name`` (what the offline reasoner reads as an object) or the text."""
        if self.text:
            return self.text
        return "/".join(p for p in (self.namespace, self.kind, self.name) if p)


@dataclass(frozen=True, slots=True)
class Change:
    id: str
    ref: str
    at: datetime
    actor: str
    summary: str
    kind: ChangeKind
    domain: Domain
    target: ChangeTarget
    details: str = ""
    link: str = ""
    submitted_by: str = ""
    # The target object's state before the change (e.g. ``{"spec": ...}``), when the
    # sender knows it: what ``revert-change`` restores. None when not recorded.
    before: Mapping[str, Any] | None = None
