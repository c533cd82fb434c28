"""The Notifier protocol: push one escalation to humans somewhere."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class EscalationNotice:
    """What a notifier needs: who it is for, why, and the evidence trail."""

    escalation_id: str
    kind: str
    agent: str
    summary: str
    routed_to: Sequence[str]
    investigation_id: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Delivery:
    notifier: str
    ok: bool
    attempts: int
    error: str = ""


class Notifier(Protocol):
    name: str

    def send(self, notice: EscalationNotice) -> Delivery: ...


def slack_payload(notice: EscalationNotice) -> dict[str, Any]:
    """A Slack-compatible message ("text" for clients without blocks, "blocks" for the rest)."""
    text = f"[nightshift] {notice.kind} escalation for agent {notice.agent}: {notice.summary}"
    causes = notice.details.get("root_causes") or []
    lines = [
        f"#{c.get('rank')} {c.get('fault')} on {_ref(c.get('resource') or {})} "
        f"({float(c.get('confidence') or 0):.2f})"
        for c in causes[:3]
    ]
    fields = [
        {"type": "mrkdwn", "text": f"*Agent*\n{notice.agent}"},
        {"type": "mrkdwn", "text": f"*Kind*\n{notice.kind}"},
        {"type": "mrkdwn", "text": f"*Investigation*\n{notice.investigation_id or '-'}"},
        {"type": "mrkdwn", "text": f"*Routed to*\n{', '.join(notice.routed_to) or '-'}"},
    ]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": "Nightshift escalation"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": notice.summary[:2900]}},
        {"type": "section", "fields": fields},
    ]
    if lines:
        blocks.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)[:2900]}}
        )
    alert_labels = notice.details.get("alert_labels") or {}
    if alert_labels:  # the investigation was started by alerts: say which
        text_labels = ", ".join(f"{k}={v}" for k, v in sorted(alert_labels.items()))
        blocks.append(
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": f"*Alert*\n{text_labels}"[:2900]},
            }
        )
    blocks.append(
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": f"escalation {notice.escalation_id}"}],
        }
    )
    return {"text": text[:3000], "blocks": blocks}


def _ref(r: Mapping[str, Any]) -> str:
    ns = f"{r['namespace']}/" if r.get("namespace") else ""
    return f"{ns}{r.get('kind', '?')}/{r.get('name', '?')}"
