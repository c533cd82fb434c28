"""Change-log records: which change (firewall, config, rollout...) touched what, when."""

from __future__ import annotations

import re
from dataclasses import replace

from nightshift.agent.reasoners.offline.faults import CHANGE_FAULTS
from nightshift.agent.reasoners.offline.findings import Analysis, Change, Finding
from nightshift.agent.reasoners.offline.kinds import is_kind, kind_name
from nightshift.agent.reasoners.offline.timeline import parse_time
from nightshift.agent.reasoners.offline.topology import Topology, names_in
from nightshift.domain.diagnosis import ResourceRef

_CHANGE_KIND = re.compile("|".join(sorted(CHANGE_FAULTS, key=len, reverse=True)), re.I)
_IDENT = re.compile(r"\b[A-Z][A-Z0-9]+-\d+\b")


_DETAIL = re.compile(r"^([A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+):")


def _id_column(header: str) -> tuple[int, int] | None:
    """Where the ID column of a change table is: ids like SSM-PB-0314 or VAULT-ROT
    are only recognisable by their column, not by a pattern."""
    m = re.search(r"(?:^|\s)(ID)(\s+)\S", header)
    return (m.start(1), m.end(2)) if m else None


def _is_header(line: str) -> bool:
    return line.upper().startswith(("TIME", "WHEN"))


# One answer may hold several tables (one per source: "=== source cluster ==="), each
# with its own columns; a table without an ID column has no record ids.
_SECTION = re.compile(r"^=== .* ===$")


def _ident(raw: str, column: tuple[int, int] | None) -> str:
    if column is not None and len(raw) > column[0] and raw[column[0] - 1 : column[0]] in ("", " "):
        cell = raw[column[0] :].split(maxsplit=1)
        if cell and len(cell[0]) >= 3 and any(ch.isalpha() for ch in cell[0]):
            return cell[0]
    found = _IDENT.search(raw)
    return found.group(0) if found else ""


# recent_changes prints the cluster's Warning events after the changes, under their own
# header: they are symptoms (a FailedCreate, a BackOff), never changes.
_SYMPTOMS = re.compile(r"^Warning events \(symptoms, not changes\)", re.M)


def parse_changes(text: str, out: Analysis, topo: Topology) -> None:
    cut = _SYMPTOMS.search(text)
    text = text[: cut.start()] if cut else text
    details: dict[str, list[str]] = {}
    for raw in text.splitlines():
        head = _DETAIL.match(raw.strip())
        if head:  # "CHG-1: detail"
            details.setdefault(head.group(1), []).append(raw.strip()[head.end() :].strip())
    column: tuple[int, int] | None = None
    first = len(out.changes)
    for raw in text.splitlines():
        line = raw.strip()
        if _is_header(line):
            column = _id_column(raw)
            continue
        if _SECTION.match(line):
            column = None
            continue
        m = _CHANGE_KIND.search(line)
        if not line or m is None:
            continue
        if _DETAIL.match(line):  # a detail line, folded in above
            continue
        fault = CHANGE_FAULTS[m.group(0).lower()]
        names = [n for n in names_in(line) if n not in ("feature-flag", "security-group")]
        # "ns/kind/name" in a TARGET column names the changed object precisely
        path = next((t for t in line.split() if t.count("/") >= 1 and not t.startswith("http")), "")
        parts = path.rstrip("/").lower().split("/") if path else []
        last = parts[-1] if parts else ""
        target = last if len(last) >= 3 else (names[0] if names else m.group(0).lower())
        obj_kind, obj_ns = _object_of(parts)
        ident = _ident(raw, column)
        if fault == "db-schema-migration-change" and not obj_kind:
            topo.kinds[f"database:{target}"] = "schema-changed"  # its TARGET is the database
        if ident:
            topo.kinds[f"change:{ident}"] = target
            if obj_kind:  # what a check of this change should look at
                topo.kinds[f"change-kind:{ident}"] = obj_kind
                topo.kinds[f"change-ns:{ident}"] = obj_ns or ""
        detail = " ".join(details.get(ident, []))[:240]
        paths = [p for tok in line.split() if "/" in tok for p in tok.lower().split("/")]
        mentioned = tuple(dict.fromkeys([*names, *(p for p in paths if len(p) >= 3)]))
        out.changes.append(
            Change(
                fault,
                target,
                line[:240],
                parse_time(line),
                ident,
                detail,
                mentioned,
                obj_kind,
                obj_ns,
            )
        )
    _same_change(out.changes, first)


def _same_change(changes: list[Change], first: int) -> None:
    """The cluster's view of an object's change and the change record that targets the
    same object are one change: the record's id names it (what a revert acts on)."""
    records = {
        (c.object_kind, c.target, c.namespace): c.ident
        for c in changes[first:]
        if c.ident and names_object(c)
    }
    for i in range(first, len(changes)):
        c = changes[i]
        ident = records.get((c.object_kind, c.target, c.namespace))
        if not c.ident and ident and names_object(c):
            changes[i] = replace(c, ident=ident)


def _object_of(parts: list[str]) -> tuple[str, str | None]:
    """(API kind, namespace) of a "ns/kind/name" or "kind/name" TARGET; ("", None) otherwise."""
    if len(parts) == 3 and is_kind(parts[1]):
        return kind_name(parts[1]), parts[0]
    if len(parts) == 2 and is_kind(parts[0]):
        return kind_name(parts[0]), None
    if len(parts) == 2 and is_kind(parts[1]):  # "billing/networkpolicy": objects of a kind
        return kind_name(parts[1]), parts[0]
    return "", None


# A rollout is undone on the workload itself (rollback-deployment acts on it and
# needs no change system); every other recorded change is reverted by its record id.
_ROLLED_BACK = frozenset({"Deployment", "StatefulSet", "DaemonSet"})


def change_subject(change: Change) -> ResourceRef:
    """The resource a fix for this change applies to, as the action catalog names it.

    Never the change's kind with the changed object's name: ``Change/<ruleset>``
    is neither the change record nor the ruleset, so no action can find it."""
    named = names_object(change)
    if named and change.object_kind in _ROLLED_BACK and change.fault == "bad-deployment-rollout":
        return ResourceRef(change.object_kind, change.target, change.namespace)
    if change.ident:
        return ResourceRef("Change", change.ident)
    if named:
        return ResourceRef(change.object_kind, change.target, change.namespace)
    return ResourceRef("Change", change.target)


def names_object(change: Change) -> bool:
    """The TARGET names one object ("shop/deployment/cart"), not a whole kind
    ("billing/networkpolicy": every policy of the namespace)."""
    return bool(change.object_kind) and change.target != change.object_kind.lower()


def touched_rules(text: str, out: Analysis, topo: Topology) -> None:
    """Rules that a recorded change touched tie the rule set back to that change."""
    for raw in text.splitlines():
        for ident in _IDENT.findall(raw):
            if topo.kinds.get(f"change:{ident}"):
                ref = ResourceRef("Change", ident)
                out.findings.append(Finding("rule-changed", ref, " ".join(raw.split())[:240]))


# Kinds whose absence means an autoscaler (and its controller) is not installed.
