"""Shapes the pages read: the hypothesis tree, evidence stances, a timeline line.

Pure functions over the stored result and events (no I/O), so the page routes
stay thin and these are tested directly.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

_TIMELINE_TEXT = 240  # a timeline line is a summary; the full text is in the evidence table


@dataclass
class Node:
    """One hypothesis with the hypotheses whose parent it is."""

    hyp: Mapping[str, Any]
    children: list[Node] = field(default_factory=list)


def hypothesis_tree(hypotheses: Sequence[Mapping[str, Any]]) -> list[Node]:
    """Roots first by confidence; a parent link to an unknown id (or a cycle)
    makes the hypothesis a root rather than losing it."""
    nodes = {str(h.get("id")): Node(h) for h in hypotheses}
    roots: list[Node] = []
    for hid, node in nodes.items():
        parent = node.hyp.get("parent_id")
        if parent is not None and str(parent) in nodes and not _loops(nodes, hid):
            nodes[str(parent)].children.append(node)
        else:
            roots.append(node)

    def order(ns: list[Node]) -> list[Node]:
        ns.sort(key=lambda n: -float(n.hyp.get("confidence") or 0))
        for n in ns:
            order(n.children)
        return ns

    return order(roots)


def _loops(nodes: Mapping[str, Node], start: str) -> bool:
    seen = {start}
    cur = nodes[start].hyp.get("parent_id")
    while cur is not None and str(cur) in nodes:
        if str(cur) in seen:
            return True
        seen.add(str(cur))
        cur = nodes[str(cur)].hyp.get("parent_id")
    return False


def stances(hypotheses: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, list[str]]]:
    """evidence id -> {"supports": [hypothesis ids], "refutes": [...]}."""
    out: dict[str, dict[str, list[str]]] = {}
    for h in hypotheses:
        for key, stance in (("supporting", "supports"), ("refuting", "refutes")):
            for ev in h.get(key) or ():
                out.setdefault(str(ev), {"supports": [], "refutes": []})[stance].append(
                    str(h.get("id"))
                )
    return out


def diagnosis_of(result: Mapping[str, Any] | None) -> Mapping[str, Any]:
    if not result:
        return {}
    inner = result.get("diagnosis")
    return inner if isinstance(inner, Mapping) else result


_RESOURCE = {"kind": "", "namespace": None, "name": ""}
# What the investigation page reads from each part of a result. A failed,
# cancelled or early-ended investigation stores whatever it had (no cycles, no
# evidence, a hypothesis without its resource), and the page must still render.
_HYPOTHESIS = {"id": "", "fault": "", "confidence": 0.0, "state": "open", "parent_id": None,
               "rationale": "", "supporting": [], "refuting": []}  # fmt: skip
_EVIDENCE = {"id": "", "tool": "", "params": {}, "status": "", "summary": "", "findings": []}
_LINK = {"hypothesis_id": "", "fault": "", "role": "", "confidence": 0.0, "title": ""}
_CAUSE = {"rank": 0, "fault": "", "category": "", "confidence": 0.0, "explanation": "",
          "remediation_class": "", "evidence_ids": []}  # fmt: skip


def complete(diag: Mapping[str, Any]) -> dict[str, Any]:
    """``diag`` with every field the pages read present (empty when the result lacks it)."""
    if not diag:
        return {}
    out: dict[str, Any] = {"summary": "", "cycles": None, "tool_calls": None, **diag}
    for key, shape in (("hypotheses", _HYPOTHESIS), ("evidence", _EVIDENCE),
                       ("causal_chain", _LINK), ("root_causes", _CAUSE)):  # fmt: skip
        items = diag.get(key)
        listed = items if isinstance(items, list) else []
        out[key] = [_filled(x, shape) for x in listed if isinstance(x, Mapping)]
    return out


def _filled(item: Mapping[str, Any], shape: Mapping[str, Any]) -> dict[str, Any]:
    out = {**shape, **{k: v for k, v in item.items() if v is not None}}
    res = item.get("resource")
    out["resource"] = {**_RESOURCE, **(res if isinstance(res, Mapping) else {})}
    return out


def timeline_text(kind: str, data: Mapping[str, Any]) -> str:
    """One line for an event: its intent or reason first (why), then what."""
    if kind == "status":
        text = f"{data.get('status', '')} {data.get('reason', '')}"
    elif "intent" in data:
        text = f"{data.get('tool', '')}: {data['intent']}"
    elif "reason" in data and "tool" in data:
        text = f"{data['tool']} {_short(data.get('params'))}: {data['reason']}"
    elif "summary" in data:
        text = f"{data.get('tool', '')}: {data['summary']}"
    else:
        text = _short(data)
    text = " ".join(str(text).split())
    return text if len(text) <= _TIMELINE_TEXT else text[: _TIMELINE_TEXT - 1] + "…"


def _short(value: object) -> str:
    return json.dumps(value, sort_keys=True, default=str) if value else ""


def pretty(value: object) -> str:
    return json.dumps(value, indent=2, sort_keys=True, default=str)


# The investigation page inlines the tools' text up to this many characters in
# all; past it each item's text is fetched when its row is unfolded, so a
# thousand-call investigation stays a page, not megabytes of tool output.
INLINE_EVIDENCE_CHARS = 128 * 1024


def inline_evidence(evidence: Sequence[Mapping[str, Any]]) -> set[str]:
    """Ids of the evidence whose text goes into the page, in order, within the budget."""
    inline: set[str] = set()
    used = 0
    for e in evidence:
        size = evidence_chars(e)
        if used + size > INLINE_EVIDENCE_CHARS:
            break
        used += size
        inline.add(str(e.get("id")))
    return inline


def evidence_chars(e: Mapping[str, Any]) -> int:
    return sum(len(str(f)) + 1 for f in e.get("findings") or ())


def evidence_text(e: Mapping[str, Any]) -> str:
    return "".join(f"{f}\n" for f in e.get("findings") or ())


@dataclass(frozen=True)
class Moment:
    """One line of the investigation's chronology: an alert burst, a change, a cycle."""

    at: datetime
    kind: str  # alert | change | cycle | status
    text: str


CHRONOLOGY_EVENTS = ("cycle.finished", "status")


def chronology(
    alerts: Sequence[Any], changes: Sequence[Any], events: Sequence[Any]
) -> list[Moment]:
    """Alerts, changes and reasoning cycles in time order.

    Consecutive alerts of one name fold into one line (a storm of 300 reads as
    a few bursts); changes are the feed's entries in the investigation's window.
    """
    out: list[Moment] = []
    burst: list[Any] = []

    def flush() -> None:
        if burst:
            name = _alert_name(burst[0])
            last = burst[-1].first_received_at.strftime("%H:%M:%S")
            more = f" x{len(burst)}, until {last}" if len(burst) > 1 else ""
            out.append(Moment(burst[0].first_received_at, "alert", f"{name}{more}"))
            burst.clear()

    for a in sorted(alerts, key=lambda a: a.first_received_at):
        if burst and _alert_name(burst[-1]) != _alert_name(a):
            flush()
        burst.append(a)
    flush()
    for c in changes:
        out.append(Moment(c.at, "change", f"{c.ref} by {c.actor}: {c.summary}"))
    for ev in events:
        if ev.kind == "cycle.finished":
            top = ev.data.get("top") or {}
            lead = f"leading {top.get('fault')} {float(top.get('confidence') or 0):.2f}"
            out.append(Moment(ev.created_at, "cycle", f"cycle {ev.data.get('cycle')}: "
                              + (lead if top else "no hypothesis yet")))  # fmt: skip
        elif ev.kind == "status":
            out.append(Moment(ev.created_at, "status", timeline_text(ev.kind, ev.data)))
    return sorted(out, key=lambda m: _utc(m.at))


def _alert_name(a: Any) -> str:
    return str(a.labels.get("alertname", a.fingerprint))


def _utc(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)
