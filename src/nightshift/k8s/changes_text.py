"""The text of ``recent_changes`` from the cluster: the simulated world's change table
(``TIME AGE DOMAIN KIND TARGET ACTOR SUMMARY``; the cluster has no change ids), then
the recent Warning events under a header of their own."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from nightshift.k8s.reads import Obj, event_count, event_time, human_age, meta, rfc3339, table


@dataclass(frozen=True, slots=True)
class Record:
    at: datetime
    id: str
    domain: str
    kind: str
    target: str
    actor: str
    summary: str


def render(
    records: Sequence[Record], warnings: Sequence[Obj], now: datetime, hidden: int = 0
) -> str:
    blocks = []
    if records:
        # No ID column: the cluster keeps no change records, so a diagnosis names the
        # changed object itself (TARGET), not an invented record id.
        rows = [
            [
                rfc3339(r.at),
                human_age((now - r.at).total_seconds()),
                r.domain,
                r.kind,
                r.target,
                r.actor,
                r.summary,
            ]
            for r in records
        ]
        head = ["TIME", "AGE", "DOMAIN", "KIND", "TARGET", "ACTOR", "SUMMARY"]
        blocks.append(table(head, rows))
        if hidden:
            blocks[-1] += f"\n... {hidden} older changes not shown (narrow since_minutes or domain)"
    else:
        blocks.append("No changes to workloads, config, policies or RBAC in the window.")
    if warnings:
        rows = [_warning_row(e, now) for e in warnings]
        blocks.append(
            "Warning events (symptoms, not changes), newest first:\n"
            + table(["LAST SEEN", "COUNT", "OBJECT", "REASON", "MESSAGE"], rows)
        )
    return "\n\n".join(blocks)


def _warning_row(event: Obj, now: datetime) -> list[str]:
    obj = event.get("involvedObject") or event.get("regarding") or {}
    when = event_time(event)
    ns = obj.get("namespace") or meta(event).get("namespace", "")
    message = " ".join(str(event.get("message") or event.get("note") or "").split())
    return [
        human_age((now - when).total_seconds()) if when else "<unknown>",
        str(event_count(event)),
        f"{ns}/{obj.get('kind', '')}/{obj.get('name', '')}",
        str(event.get("reason", "")),
        message[:160],
    ]
