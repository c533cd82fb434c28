"""Escalations: hand a case to humans with the full evidence trail.

Opened for breaker trips (an investigation ended ``escalated``), low
confidence, out-of-scope requests, expired approvals and unverified
remediations; routed to the agent's owner and the on-call operator; pushed
through the configured notifiers after the transaction commits. Shadow-phase
agents never escalate: their output goes nowhere until reviewed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from nightshift.domain.access import Caller
from nightshift.domain.ids import new_id
from nightshift.domain.vocabulary import TrustPhase
from nightshift.notifications.protocol import EscalationNotice, Notifier
from nightshift.observability.audit_chain import AuditEntry
from nightshift.services.audit import AuditService, human_entry
from nightshift.services.errors import Conflict, NotFound
from nightshift.store.database import Database
from nightshift.store.tables import AgentRow, EscalationRow, InvestigationRow, UserRow

log = logging.getLogger(__name__)
CONTROL_PLANE = "nightshift-control-plane"  # the control plane's own identity in the audit


@dataclass(frozen=True, slots=True)
class EscalationView:
    id: str
    agent: str
    investigation_id: str | None
    proposal_id: str | None
    kind: str
    summary: str
    status: str
    phase: TrustPhase  # the agent's phase when it escalated
    routed_to: list[str]
    payload: dict[str, Any]
    notifications: list[dict[str, Any]]
    warranted: bool | None
    resolution: str
    created_at: datetime
    acked_at: datetime | None
    resolved_at: datetime | None


def evidence_trail(result: Mapping[str, Any] | None) -> dict[str, Any]:
    """The parts of an investigation's result a human needs to pick the case up."""
    r = result or {}
    return {
        "summary": r.get("summary", ""),
        "outcome": r.get("outcome"),
        "root_causes": list(r.get("root_causes") or []),
        "hypotheses": list(r.get("hypotheses") or []),
        "evidence": list(r.get("evidence") or []),
    }


def system_entry(
    *, intent: str, request: dict[str, Any], decision: str, reason: str = "", inv: str | None
) -> AuditEntry:
    extra = {"investigation_id": inv} if inv else {}
    return AuditEntry(
        at=datetime.now(UTC),
        actor=CONTROL_PLANE,
        owner=None,
        authority_class=None,
        phase=None,
        chain_id=None,
        intent=intent,
        request=request,
        decision=decision,
        reason=reason,
        extra=extra,
    )


# investigation end -> the escalation it opens, and how its summary says it
_ENDED_KINDS = {"escalated": "breaker", "deadline_exceeded": "deadline"}
_ENDED_WORDS = {"breaker": "escalated", "deadline": "ran out of time"}


class EscalationService:
    def __init__(
        self,
        db: Database,
        audit: AuditService,
        notifiers: Sequence[Notifier] = (),
        *,
        oncall: str = "",
        background: bool = True,
    ) -> None:
        self._db = db
        self._audit = audit
        self._notifiers: list[Notifier] = list(notifiers)
        self._oncall = oncall
        self._background = background

    def add_notifier(self, notifier: Notifier) -> None:
        self._notifiers.append(notifier)

    # -- opening --------------------------------------------------------------

    def open_in(
        self,
        s: Session,
        agent: AgentRow,
        *,
        kind: str,
        summary: str,
        investigation_id: str | None = None,
        proposal_id: str | None = None,
        extra: Mapping[str, Any] | None = None,
        system: bool = False,
    ) -> str | None:
        """Record an escalation inside the caller's transaction; ``deliver`` after commit.

        Returns ``None`` (nothing opened) for shadow-phase agents, unless
        ``system``: a condition of the control plane itself (alert intake
        saturated) is not agent output and reaches humans in every phase.
        """
        if agent.trust_phase == TrustPhase.SHADOW.value and not system:
            return None
        owner = s.get(UserRow, agent.owner_id)
        routed = [c for c in ((owner.contact or owner.name) if owner else "", self._oncall) if c]
        result = None
        inv: InvestigationRow | None = None
        if investigation_id:
            inv = s.get(InvestigationRow, investigation_id)
            result = inv.result if inv is not None else None
        payload = {"trail": evidence_trail(result), **dict(extra or {})}
        if inv is not None and (inv.spec or {}).get("origin"):
            # Started from alerts: the human sees which alerts, by their labels.
            payload.setdefault("alert_labels", dict(inv.spec.get("alert") or {}))
        row = EscalationRow(
            id=new_id(),
            investigation_id=investigation_id,
            agent_id=agent.id,
            kind=kind,
            summary=summary[:4000],
            payload=payload,
            routed_to=list(dict.fromkeys(routed)),
            status="open",
            proposal_id=proposal_id,
            phase=agent.trust_phase,
            notifications=[],
        )
        s.add(row)
        self._audit.append_in(
            s,
            [
                system_entry(
                    intent=summary,
                    request={"escalation": row.id, "kind": kind, "agent": agent.name},
                    decision="escalated",
                    reason=kind,
                    inv=investigation_id,
                )
            ],
        )
        return row.id

    def open_for(
        self, investigation_id: str, *, kind: str, summary: str, proposal_id: str | None = None
    ) -> str | None:
        """Open (and deliver) an escalation about an investigation, in its own transaction."""
        with self._db.transaction() as s:
            inv = s.get(InvestigationRow, investigation_id)
            agent = s.get(AgentRow, inv.agent_id) if inv is not None else None
            if agent is None:
                return None
            esc = self.open_in(
                s, agent, kind=kind, summary=summary,
                investigation_id=investigation_id, proposal_id=proposal_id,
            )  # fmt: skip
        self.deliver([esc])
        return esc

    def deliver(self, ids: Sequence[str | None]) -> None:
        wanted = [i for i in ids if i]
        if not wanted or not self._notifiers:
            return
        if self._background:
            threading.Thread(target=self._deliver, args=(wanted,), daemon=True).start()
        else:
            self._deliver(wanted)

    def _deliver(self, ids: Sequence[str]) -> None:
        for esc_id in ids:
            try:
                notice = self._notice(esc_id)
                results = [n.send(notice) for n in self._notifiers]
                with self._db.transaction() as s:
                    row = s.get(EscalationRow, esc_id)
                    if row is not None:
                        at = datetime.now(UTC).isoformat()
                        row.notifications = [
                            *row.notifications,
                            *(
                                {
                                    "notifier": d.notifier,
                                    "ok": d.ok,
                                    "attempts": d.attempts,
                                    "error": d.error,
                                    "at": at,
                                }
                                for d in results
                            ),
                        ]
            except Exception:  # a notifier must never break the workflow
                log.exception("delivering escalation %s failed", esc_id)

    def _notice(self, esc_id: str) -> EscalationNotice:
        v = self.get(esc_id)
        return EscalationNotice(
            escalation_id=v.id,
            kind=v.kind,
            agent=v.agent,
            summary=v.summary,
            routed_to=tuple(v.routed_to),
            investigation_id=v.investigation_id,
            details=_details(v.payload),
        )

    # -- breaker trips (termination listener) ----------------------------------

    def investigation_ended(self, investigation_id: str, status: str, reason: str) -> None:
        try:
            self._ended(investigation_id, status, reason)
        except Exception:  # a listener must never fail the termination it is told about
            log.exception("workflow listener failed for %s", investigation_id)

    def _ended(self, investigation_id: str, status: str, reason: str) -> None:
        # a tripped breaker, and an investigation out of time (its tier's deadline, e.g.
        # never admitted by Kueue): the night shift handed it back, a human takes over
        kind = _ENDED_KINDS.get(status)
        if kind is None:
            return
        with self._db.transaction() as s:
            inv = s.get(InvestigationRow, investigation_id)
            if inv is None:
                return
            agent = s.get(AgentRow, inv.agent_id)
            assert agent is not None
            exists = s.scalar(
                select(EscalationRow.id).where(
                    EscalationRow.investigation_id == investigation_id,
                    EscalationRow.kind == kind,
                )
            )
            if exists:
                return
            esc = self.open_in(
                s,
                agent,
                kind=kind,
                summary=f"investigation {investigation_id} {_ENDED_WORDS[kind]}: {reason}",
                investigation_id=investigation_id,
            )
        self.deliver([esc])

    # -- reads and human handling ------------------------------------------------

    def list(
        self, *, status: str | None = None, agent: str | None = None, limit: int = 50
    ) -> list[EscalationView]:
        q = select(EscalationRow, AgentRow.name).join(
            AgentRow, AgentRow.id == EscalationRow.agent_id
        )
        if status:
            q = q.where(EscalationRow.status == status)
        if agent:
            q = q.where(AgentRow.name == agent)
        q = q.order_by(EscalationRow.created_at.desc(), EscalationRow.id.desc()).limit(limit)
        with self._db.read() as s:
            return [_view(r, name) for r, name in s.execute(q).all()]

    def get(self, esc_id: str) -> EscalationView:
        with self._db.read() as s:
            found = s.execute(
                select(EscalationRow, AgentRow.name)
                .join(AgentRow, AgentRow.id == EscalationRow.agent_id)
                .where(EscalationRow.id == esc_id)
            ).first()
            if found is None:
                raise NotFound(f"no escalation {esc_id!r}")
            return _view(found[0], found[1])

    def ack(self, esc_id: str, caller: Caller, note: str = "") -> EscalationView:
        with self._db.transaction() as s:
            row = self._locked(s, esc_id)
            if row.status != "open":
                raise Conflict(f"escalation {esc_id} is {row.status}, not open")
            row.status, row.acked_at, row.acked_by = "acked", datetime.now(UTC), caller.user_id
            self._audit.append_in(
                s,
                [
                    human_entry(
                        caller,
                        intent=note or "acknowledged",
                        decision="acked",
                        request={"escalation": esc_id},
                        investigation_id=row.investigation_id,
                    )
                ],
            )
        return self.get(esc_id)

    def resolve(
        self, esc_id: str, caller: Caller, *, warranted: bool | None, resolution: str
    ) -> EscalationView:
        """Close it; ``warranted`` (was escalating right?) feeds escalation correctness."""
        with self._db.transaction() as s:
            row = self._locked(s, esc_id)
            if row.status == "resolved":
                raise Conflict(f"escalation {esc_id} is already resolved")
            row.status, row.resolved_at, row.resolved_by = (
                "resolved",
                datetime.now(UTC),
                caller.user_id,
            )
            row.correct, row.resolution = warranted, resolution
            self._audit.append_in(
                s,
                [
                    human_entry(
                        caller,
                        intent=resolution,
                        decision="resolved",
                        request={"escalation": esc_id, "warranted": warranted},
                        investigation_id=row.investigation_id,
                    )
                ],
            )
        return self.get(esc_id)

    @staticmethod
    def _locked(s: Session, esc_id: str) -> EscalationRow:
        row = s.get(EscalationRow, esc_id, with_for_update=True)
        if row is None:
            raise NotFound(f"no escalation {esc_id!r}")
        return row


def _details(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The evidence trail, plus the alert's labels when alerts started the investigation."""
    out = dict(payload.get("trail") or {})
    if "alert_labels" in payload:
        out["alert_labels"] = payload["alert_labels"]
    return out


def _view(row: EscalationRow, agent: str) -> EscalationView:
    return EscalationView(
        id=row.id,
        agent=agent,
        investigation_id=row.investigation_id,
        proposal_id=row.proposal_id,
        kind=row.kind,
        summary=row.summary,
        status=row.status,
        phase=TrustPhase(row.phase),
        routed_to=list(row.routed_to),
        payload=dict(row.payload),
        notifications=list(row.notifications),
        warranted=row.correct,
        resolution=row.resolution,
        created_at=row.created_at,
        acked_at=row.acked_at,
        resolved_at=row.resolved_at,
    )
