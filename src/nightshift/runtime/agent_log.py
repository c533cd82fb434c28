"""Agent-level lines for the worker log: one per cycle, not one per HTTP request.

An operator reading a worker's log should see what the agent did: which
hypothesis it was testing, which calls it made (and what they returned), what
changed on the board and who leads now. The events carry all of it; this
folds them into one line per cycle (plus the start, the confirmation and the
result), with the same facts as structured fields under ``agent``.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping
from typing import Any

from nightshift.agent.events import AgentEvent, EventKind

_MOVES = {
    EventKind.HYPOTHESIS_CREATED: "new",
    EventKind.HYPOTHESIS_UPDATED: "changed",
    EventKind.HYPOTHESIS_REJECTED: "rejected",
}


def _ref(h: Mapping[str, Any] | None) -> str:
    if not h:
        return "-"
    r = h.get("resource") or {}
    return f"{r.get('kind')}/{r.get('name')} {h.get('fault')}"


class AgentLog:
    """Feed it every AgentEvent; it logs at cycle boundaries."""

    def __init__(self, logger: logging.Logger) -> None:
        self.log = logger
        self._calls: list[str] = []
        self._moves: Counter[str] = Counter()
        self._leader = ""

    def observe(self, event: AgentEvent) -> None:
        d = event.data
        kind = event.kind
        if kind is EventKind.INVESTIGATION_STARTED:
            self._line(
                f"started: tier {d.get('tier')}, reasoner {d.get('reasoner')}",
                event="started",
                tier=d.get("tier"),
                reasoner=d.get("reasoner"),
            )
        elif kind is EventKind.TOOL_ANSWERED:
            self._calls.append(f"{d.get('tool')}({d.get('status')})")
        elif kind in _MOVES:
            self._moves[_MOVES[kind]] += 1
        elif kind is EventKind.CYCLE_FINISHED:
            self._cycle(d)
        elif kind is EventKind.HYPOTHESIS_CONFIRMED:
            self._line(
                f"confirmed {d.get('id')} {_ref(d)} at {float(d.get('confidence', 0)):.2f}",
                event="confirmed",
                hypothesis=d.get("id"),
            )
        elif kind in (EventKind.BREAKER_TRIPPED, EventKind.BUDGET_EXHAUSTED):
            self._line(f"{kind.value}: {dict(d)}", event=kind.value)
        elif kind is EventKind.RESULT:
            causes = d.get("root_causes") or [{}]
            self._line(
                f"result: {d.get('outcome')} after {d.get('cycles')} cycles and "
                f"{d.get('tool_calls')} calls; top {_ref(causes[0])}",
                event="result",
                outcome=d.get("outcome"),
                cycles=d.get("cycles"),
                tool_calls=d.get("tool_calls"),
            )

    def _cycle(self, d: Mapping[str, Any]) -> None:
        focus = _ref(d.get("focus"))
        top = d.get("top")
        leader = _ref(top)
        moved = ", ".join(f"{n} {what}" for what, n in sorted(self._moves.items())) or "nothing"
        lead = f"leading {leader} {float(top.get('confidence', 0)):.2f}" if top else "no leader"
        if leader != self._leader and self._leader:
            lead += f" (was {self._leader})"
        self._line(
            f"cycle {d.get('cycle')}: focus {focus}; {len(self._calls)} calls "
            f"[{', '.join(self._calls)}]; hypotheses: {moved}; {lead}",
            event="cycle",
            cycle=d.get("cycle"),
            focus=focus,
            calls=list(self._calls),
            changed=dict(self._moves),
            leader=leader,
            reasoner_cpu_ms=d.get("reasoner_cpu_ms"),
        )
        self._leader = leader
        self._calls = []
        self._moves = Counter()

    def _line(self, message: str, **fields: Any) -> None:
        self.log.info("%s", message, extra={"agent": fields})
