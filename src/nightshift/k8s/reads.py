"""Bounded reads shared by the cluster's diagnostic tools (changes, rules, nodes).

Every list asks the API server for at most ``LIST_LIMIT`` objects, so a
namespace with ten thousand ConfigMaps costs one bounded page, never the
worker's memory; a cut list says so in the answer.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

# The cluster tools' tables are laid out as every other tool answer's.
from nightshift.agent.tools.columns import table as table
from nightshift.k8s.client import resource_path
from nightshift.k8s.kubectl_time import parse_time as parse_time

Obj = dict[str, Any]
LIST_LIMIT = 500


class KubeReads(Protocol):
    """The two read verbs the diagnostic tools use (``KubeApi`` has both)."""

    def get(self, path: str, query: Mapping[str, Any] | None = None) -> Obj: ...

    def get_text(self, path: str, query: Mapping[str, Any] | None = None) -> str: ...


Scopes = Callable[[str | None], list[str | None]]


@dataclass
class Lister:
    """Lists within the agent's namespaces and remembers which lists were cut."""

    api: KubeReads
    cut: list[str] = field(default_factory=list)

    def items(
        self,
        api_version: str,
        plural: str,
        namespace: str | None,
        query: Mapping[str, str] | None = None,
        limit: int = LIST_LIMIT,
    ) -> list[Obj]:
        params = {**(query or {}), "limit": str(limit)}
        body = self.api.get(resource_path(api_version, plural, namespace), params)
        if (body.get("metadata") or {}).get("continue"):
            self.cut.append(f"{plural} in {namespace or 'all namespaces'} (first {limit})")
        found: list[Obj] = body.get("items") or []
        return found

    def note(self) -> str:
        if not self.cut:
            return ""
        return "\n(listing cut, narrow the query: " + "; ".join(self.cut) + ")"


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def human_age(seconds: float) -> str:
    """kubectl's AGE column (HumanDuration), coarse to fine."""
    s = int(seconds)
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        return f"{minutes}m{s % 60}s" if s % 60 else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = s // 3600
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    return f"{hours // 24}d"


def meta(obj: Obj) -> Obj:
    found: Obj = obj.get("metadata") or {}
    return found


def event_time(event: Obj) -> datetime | None:
    series = event.get("series") or {}
    return (
        parse_time(series.get("lastObservedTime"))
        or parse_time(event.get("lastTimestamp"))
        or parse_time(event.get("eventTime"))
        or parse_time(meta(event).get("creationTimestamp"))
    )


def event_count(event: Obj) -> int:
    series = event.get("series") or {}
    return int(series.get("count") or event.get("count") or 1)


def change_id(prefix: str, *parts: str) -> str:
    """A stable id for one observed change: the same object touched by the same
    manager at the same time gets the same id in every tool that mentions it
    (so firewall_rules can point back at a recent_changes row)."""
    digest = hashlib.sha256("\x00".join(parts).encode()).hexdigest()
    return f"{prefix}-{int(digest[:12], 16) % 1_000_000:06d}"
