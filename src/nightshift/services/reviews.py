"""The shadow review queue.

In shadow the agent runs on real data but its output goes nowhere: when a
shadow investigation ends, a ``shadow_review`` item is queued; until an ops
lead marks it reviewed, the diagnosis (result, hypotheses, proposals, the
summary in the final status) is hidden from everyone but admins. What that
hides is ``services/concealment.py``; the services' reads apply it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from nightshift.domain.access import Caller
from nightshift.domain.vocabulary import TrustPhase
from nightshift.services import review_queue
from nightshift.services.audit import AuditService, human_entry
from nightshift.services.concealment import conceals
from nightshift.services.errors import Conflict, NotFound
from nightshift.services.review_queue import ReviewKind
from nightshift.store.database import Database
from nightshift.store.tables import AgentRow, InvestigationRow, ReviewItemRow

log = logging.getLogger(__name__)
SHADOW_REVIEW = ReviewKind.SHADOW_REVIEW.value


@dataclass(frozen=True, slots=True)
class ReviewView:
    id: str
    agent: str
    investigation_id: str | None
    summary: str
    status: str
    created_at: datetime
    decided_at: datetime | None
    decision: str
    result: dict[str, Any] | None = None  # only in the detail view, for reviewers


class ReviewService:
    def __init__(self, db: Database, audit: AuditService) -> None:
        self._db = db
        self._audit = audit

    def conceals(self, inv_id: str, caller: Caller) -> bool:
        with self._db.read() as s:
            inv = s.get(InvestigationRow, inv_id)
            if inv is None:
                return False  # the caller's own lookup answers 404
            return conceals(inv.trust_phase, inv.reviewed_at, caller)

    def investigation_ended(self, investigation_id: str, status: str, reason: str) -> None:
        try:
            self._ended(investigation_id, status, reason)
        except Exception:  # a listener must never fail the termination it is told about
            log.exception("workflow listener failed for %s", investigation_id)

    def _ended(self, investigation_id: str, status: str, reason: str) -> None:
        """Queue ended shadow investigations for after-the-fact review."""
        with self._db.transaction() as s:
            inv = s.get(InvestigationRow, investigation_id)
            if inv is None or inv.trust_phase != TrustPhase.SHADOW.value or inv.result is None:
                return
            if review_queue.queued(s, ReviewKind.SHADOW_REVIEW, investigation_id):
                return
            review_queue.enqueue(
                s,
                ReviewKind.SHADOW_REVIEW,
                agent_id=inv.agent_id,
                investigation_id=investigation_id,
                summary=f"shadow investigation {inv.title[:200]!r} ended {status}",
                payload={"status": status},
            )

    def list(self, *, status: str | None = "open", limit: int = 50) -> list[ReviewView]:
        q = (
            select(ReviewItemRow, AgentRow.name)
            .join(AgentRow, AgentRow.id == ReviewItemRow.agent_id)
            .where(ReviewItemRow.kind == SHADOW_REVIEW)
        )
        if status:
            q = q.where(ReviewItemRow.status == status)
        q = q.order_by(ReviewItemRow.created_at.desc(), ReviewItemRow.id).limit(limit)
        with self._db.read() as s:
            return [_view(r, a) for r, a in s.execute(q).all()]

    def get(self, item_id: str) -> ReviewView:
        with self._db.read() as s:
            found = s.execute(
                select(ReviewItemRow, AgentRow.name)
                .join(AgentRow, AgentRow.id == ReviewItemRow.agent_id)
                .where(ReviewItemRow.id == item_id, ReviewItemRow.kind == SHADOW_REVIEW)
            ).first()
            if found is None:
                raise NotFound(f"no shadow review item {item_id!r}")
            inv = s.get(InvestigationRow, found[0].investigation_id or "")
            return replace(_view(found[0], found[1]), result=inv.result if inv else None)

    def mark_reviewed(self, item_id: str, caller: Caller, note: str = "") -> ReviewView:
        now = datetime.now(UTC)
        with self._db.transaction() as s:
            item = s.get(ReviewItemRow, item_id, with_for_update=True)
            if item is None or item.kind != SHADOW_REVIEW:
                raise NotFound(f"no shadow review item {item_id!r}")
            if item.status != "open":
                raise Conflict(f"review item {item_id} is already {item.status}")
            review_queue.decide(item, "reviewed", caller.user_id, note or "reviewed")
            inv = s.get(InvestigationRow, item.investigation_id or "")
            if inv is not None:
                inv.reviewed_at = now
            self._audit.append_in(
                s,
                [
                    human_entry(
                        caller,
                        intent=note or "review shadow output",
                        decision="reviewed",
                        request={"review_item": item_id},
                        investigation_id=item.investigation_id,
                    )
                ],
            )
        return self.get(item_id)


def _view(row: ReviewItemRow, agent: str) -> ReviewView:
    return ReviewView(
        id=row.id,
        agent=agent,
        investigation_id=row.investigation_id,
        summary=row.summary,
        status=row.status,
        created_at=row.created_at,
        decided_at=row.decided_at,
        decision=row.decision,
    )
