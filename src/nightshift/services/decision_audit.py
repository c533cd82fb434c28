"""Worker policy decisions into the audit trail.

The governed toolset in the worker reports each decision as a
``policy.decision`` event; here, inside the same transaction that stores the
event, it becomes a hash-chained audit record whose identity fields (actor,
owner, class, phase, chain) come from the control plane's own records, not
from the worker. A denial that asks to widen scope becomes a review item.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from nightshift.observability.audit_chain import AuditEntry
from nightshift.services import review_queue
from nightshift.services.audit import AuditService
from nightshift.services.review_queue import ReviewKind
from nightshift.store.tables import AgentRow, InvestigationRow, UserRow

POLICY_DECISION = "policy.decision"


class DecisionAuditor:
    def __init__(self, audit: AuditService) -> None:
        self._audit = audit

    def __call__(
        self, s: Session, inv: InvestigationRow, events: Sequence[tuple[str, Mapping[str, Any]]]
    ) -> None:
        """One audit record per decision, in the batch's order, appended to the chain
        at once: a single head lock and flush per post rather than per decision."""
        decisions = [data for kind, data in events if kind == POLICY_DECISION]
        if not decisions:
            return
        agent = s.get(AgentRow, inv.agent_id)
        owner = s.get(UserRow, agent.owner_id) if agent else None
        entries = [_entry(inv, agent, owner, data) for data in decisions]
        self._audit.append_in(s, entries)
        for entry, data in zip(entries, decisions, strict=True):
            decision = data.get("decision") or {}
            if decision.get("follow_up") == "human_review" and agent is not None:
                review_queue.enqueue(
                    s,
                    ReviewKind.SCOPE_WIDENING,
                    agent_id=agent.id,
                    investigation_id=inv.id,
                    summary=f"{agent.name} asked beyond its boundaries: {entry.message}",
                    payload={
                        "tool": data.get("tool"),
                        "params": data.get("params") or {},
                        "intent": entry.intent,
                    },
                )


def _entry(
    inv: InvestigationRow, agent: AgentRow | None, owner: UserRow | None, data: Mapping[str, Any]
) -> AuditEntry:
    decision = data.get("decision") or {}
    return AuditEntry(
        at=datetime.now(UTC),
        actor=agent.name if agent else "unknown-agent",
        owner=owner.name if owner else None,
        authority_class=agent.authority_class if agent else None,
        phase=inv.trust_phase,
        chain_id=inv.chain_id,
        intent=str(data.get("intent") or "")[:2000],
        request={
            "tool": data.get("tool"),
            "params": data.get("params") or {},
            "request": data.get("request") or {},
        },
        decision=str(decision.get("outcome", "unknown")),
        reason=str(decision.get("reason", "")),
        message=str(decision.get("message", ""))[:2000],
        extra={"investigation_id": inv.id, "follow_up": decision.get("follow_up")},
    )
