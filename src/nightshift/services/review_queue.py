"""The one human-review queue: what Nightshift asks a person to look at.

Four things land here, each from the service that notices it: shadow output
to review before anyone but an admin sees it (reviews), a demotion that holds
the agent until a human reviews it (phases), a gateway proposal an external
agent made (gateway), and a scope-widening request the policy sent to a human
(decision audit). They write through these functions, inside their own
transaction, so an item's shape, its kinds and its open/closed life are
defined once; the console and ``nightshift reviews`` read the same table.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from nightshift.domain.ids import new_id
from nightshift.store.tables import ReviewItemRow

OPEN = "open"


class ReviewKind(StrEnum):
    SHADOW_REVIEW = "shadow_review"
    DEMOTION_REVIEW = "demotion_review"
    GATEWAY_PROPOSAL = "gateway_proposal"
    SCOPE_WIDENING = "scope_widening"


def enqueue(
    s: Session,
    kind: ReviewKind,
    *,
    agent_id: str,
    summary: str,
    payload: Mapping[str, Any],
    investigation_id: str | None = None,
    item_id: str | None = None,
) -> str:
    """Add an open item in the caller's transaction; its id (``item_id`` when the
    caller must name it before the commit, e.g. in an audit record)."""
    item = item_id or new_id()
    s.add(
        ReviewItemRow(
            id=item,
            kind=kind.value,
            agent_id=agent_id,
            investigation_id=investigation_id,
            summary=summary,
            payload=dict(payload),
            status=OPEN,
        )
    )
    return item


def queued(s: Session, kind: ReviewKind, investigation_id: str) -> bool:
    """Has this investigation an item of this kind already (open or decided)?"""
    found = s.scalar(
        select(ReviewItemRow.id).where(
            ReviewItemRow.investigation_id == investigation_id,
            ReviewItemRow.kind == kind.value,
        )
    )
    return found is not None


def decide(item: ReviewItemRow, status: str, by: str | None, decision: str) -> None:
    """Close one item: who decided, when and what."""
    item.status, item.decided_by, item.decision = status, by, decision
    item.decided_at = datetime.now(UTC)


def close_open(
    s: Session, kind: ReviewKind, agent_id: str, *, status: str, by: str | None, decision: str
) -> int:
    """Close every open item of this kind for an agent; how many were open."""
    rows = s.scalars(
        select(ReviewItemRow).where(
            ReviewItemRow.agent_id == agent_id,
            ReviewItemRow.kind == kind.value,
            ReviewItemRow.status == OPEN,
        )
    ).all()
    for item in rows:
        decide(item, status, by, decision)
    return len(rows)
