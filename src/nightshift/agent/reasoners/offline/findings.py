"""What an analyzer reports: findings (signal on a resource), changes, a summary."""

from __future__ import annotations

from dataclasses import dataclass, field

from nightshift.domain.diagnosis import ResourceRef


@dataclass(frozen=True, slots=True)
class Finding:
    signal: str
    subject: ResourceRef
    line: str
    at: float | None = None


@dataclass(frozen=True, slots=True)
class Change:
    fault: str
    target: str
    line: str
    at: float | None
    ident: str = ""  # the change record id (CHG-20417), when the log has one
    detail: str = ""  # the record's detail lines, when the log prints them
    names: tuple[str, ...] = ()  # every resource / namespace name the record mentions
    object_kind: str = ""  # the API kind of the changed object, when its TARGET is a path
    namespace: str | None = None  # the changed object's namespace, from the same path


@dataclass(slots=True)
class Analysis:
    findings: list[Finding] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    summary: str = ""
