"""Change-log records: which change (firewall, config, rollout...) touched what, when."""

from __future__ import annotations

import re

from nightshift.agent.reasoners.offline.faults import CHANGE_FAULTS
from nightshift.agent.reasoners.offline.findings import Analysis, Change, Finding
from nightshift.agent.reasoners.offline.timeline import parse_time
from nightshift.agent.reasoners.offline.topology import Topology, names_in
from nightshift.domain.diagnosis import ResourceRef

_CHANGE_KIND = re.compile("|".join(sorted(CHANGE_FAULTS, key=len, reverse=True)), re.I)
_IDENT = re.compile(r"\b[A-Z][A-Z0-9]+-\d+\b")


def parse_changes(text: str, out: Analysis, topo: Topology) -> None:
    details: dict[str, list[str]] = {}
    for raw in text.splitlines():
        line = raw.strip()
        head = _IDENT.match(line)
        if head and line[head.end() : head.end() + 1] == ":":  # "CHG-1: detail"
            details.setdefault(head.group(0), []).append(line[head.end() + 1 :].strip())
    for raw in text.splitlines():
        line = raw.strip()
        m = _CHANGE_KIND.search(line)
        if not line or m is None or line.upper().startswith(("TIME", "WHEN")):
            continue
        lead = _IDENT.match(line)
        if lead and line[lead.end() :].startswith(":"):  # a detail line, folded in above
            continue
        fault = CHANGE_FAULTS[m.group(0).lower()]
        names = [n for n in names_in(line) if n not in ("feature-flag", "security-group")]
        # "ns/kind/name" in a TARGET column names the changed object precisely
        path = next((t for t in line.split() if t.count("/") >= 1 and not t.startswith("http")), "")
        last = path.rstrip("/").split("/")[-1].lower() if path else ""
        target = last if len(last) >= 3 else (names[0] if names else m.group(0).lower())
        ident_m = _IDENT.search(line)
        ident = ident_m.group(0) if ident_m else ""
        if ident:
            topo.kinds[f"change:{ident}"] = target
        detail = " ".join(details.get(ident, []))[:240]
        paths = [p for tok in line.split() if "/" in tok for p in tok.lower().split("/")]
        mentioned = tuple(dict.fromkeys([*names, *(p for p in paths if len(p) >= 3)]))
        out.changes.append(
            Change(fault, target, line[:240], parse_time(line), ident, detail, mentioned)
        )


def touched_rules(text: str, out: Analysis, topo: Topology) -> None:
    """Rules that a recorded change touched tie the rule set back to that change."""
    for raw in text.splitlines():
        for ident in _IDENT.findall(raw):
            target = topo.kinds.get(f"change:{ident}")
            if target:
                ref = ResourceRef("Change", target)
                out.findings.append(Finding("rule-changed", ref, " ".join(raw.split())[:240]))


# Kinds whose absence means an autoscaler (and its controller) is not installed.
