"""Operator verdicts on a diagnosis (accept / reject / modify) and the known
outcome recorded later (postmortem), scored against the agent's top-1.

One verdict and one known outcome per investigation; both feed the phase
gates through services/evidence.py. A shadow investigation's output must be
reviewed (reviews.py) before an operator can judge it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from nightshift.domain.access import Caller
from nightshift.domain.diagnosis import ResourceRef
from nightshift.domain.ids import new_id
from nightshift.domain.verdicts import Claim, KnownOutcome, Verdict, VerdictError, VerdictKind
from nightshift.domain.vocabulary import InvestigationStatus, TrustPhase
from nightshift.services.audit import AuditService, human_entry
from nightshift.services.errors import Conflict, Invalid, NotFound
from nightshift.store.database import Database
from nightshift.store.tables import AgentRow, InvestigationRow, UserRow, VerdictRow

OUTCOME = "outcome"


@dataclass(frozen=True, slots=True)
class VerdictView:
    id: str
    investigation_id: str
    agent: str
    kind: str
    author: str | None
    minimal_edit: bool | None
    correct: bool | None
    phase: TrustPhase  # the agent's phase when it diagnosed
    payload: dict[str, Any]
    created_at: datetime


def claim_dict(c: Claim) -> dict[str, Any]:
    return {"category": c.category, "remediation_class": c.remediation_class, "fault": c.fault}


def claim_from(d: Mapping[str, Any]) -> Claim:
    return Claim(str(d["category"]), str(d["remediation_class"]), d.get("fault"))


def top_claim(result: Mapping[str, Any] | None) -> tuple[Claim, dict[str, Any]] | None:
    causes = (result or {}).get("root_causes") or []
    if not causes:
        return None
    top = causes[0]
    return Claim(str(top["category"]), str(top["remediation_class"]), top.get("fault")), top


def _same_resource(a: Mapping[str, Any], b: ResourceRef) -> bool:
    return (
        str(a.get("kind", "")).lower() == b.kind.lower()
        and str(a.get("name", "")).lower() == b.name.lower()
        and (b.namespace is None or a.get("namespace") in (None, b.namespace))
    )


def scores(
    outcome: KnownOutcome,
    top: tuple[Claim, dict[str, Any]] | None,
    resources: Sequence[ResourceRef],
) -> bool:
    """Correct when the top-1 names the actual fault (category and fault) and, when
    the outcome names resources, one of them (the root cause or an accepted alias)."""
    if top is None:
        return False
    claim, raw = top
    if not outcome.scores(claim):
        return False
    return not resources or any(_same_resource(raw.get("resource") or {}, r) for r in resources)


class VerdictService:
    def __init__(self, db: Database, audit: AuditService) -> None:
        self._db = db
        self._audit = audit

    def judge(
        self,
        inv_id: str,
        caller: Caller,
        kind: VerdictKind,
        *,
        reason: str = "",
        modified: Claim | None = None,
    ) -> VerdictView:
        now = datetime.now(UTC)
        with self._db.transaction() as s:
            inv, agent = self._finished(s, inv_id)
            if inv.trust_phase == TrustPhase.SHADOW.value and inv.reviewed_at is None:
                raise Conflict("shadow output is not shown until reviewed; review it first")
            top = top_claim(inv.result)
            if top is None:
                raise Conflict("the investigation named no root cause to judge")
            if self._existing(s, inv_id, judged=True):
                raise Conflict("this diagnosis already has a verdict")
            try:
                verdict = Verdict(inv_id, caller.name, kind, top[0], now, modified, reason)
            except VerdictError as exc:
                raise Invalid(str(exc)) from exc
            row = VerdictRow(
                id=new_id(),
                investigation_id=inv_id,
                agent_id=agent.id,
                author_id=caller.user_id,
                kind=kind.value,
                minimal_edit=verdict.accepted_with_minimal_edits,
                phase=inv.trust_phase,
                payload={
                    "original": claim_dict(top[0]),
                    "modified": claim_dict(modified) if modified else None,
                    "reason": reason,
                    "edit": verdict.edit.value,
                    "agrees": verdict.agrees_on_root_cause,
                },
                created_at=now,
            )
            s.add(row)
            self._audit.append_in(
                s,
                [
                    human_entry(
                        caller,
                        intent=reason or f"{kind.value} the diagnosis",
                        decision=kind.value,
                        request={"verdict": row.id, **row.payload},
                        investigation_id=inv_id,
                    )
                ],
            )
            return _view(row, agent.name, caller.name)

    def record_outcome(
        self,
        inv_id: str,
        caller: Caller,
        actual: Claim,
        *,
        resources: Sequence[ResourceRef] = (),
        note: str = "",
    ) -> VerdictView:
        now = datetime.now(UTC)
        with self._db.transaction() as s:
            inv, agent = self._finished(s, inv_id)
            if self._existing(s, inv_id, judged=False):
                raise Conflict("the known outcome of this investigation is already recorded")
            try:
                known = KnownOutcome(inv_id, actual, caller.name, now)
            except VerdictError as exc:
                raise Invalid(str(exc)) from exc
            top = top_claim(inv.result)
            row = VerdictRow(
                id=new_id(),
                investigation_id=inv_id,
                agent_id=agent.id,
                author_id=caller.user_id,
                kind=OUTCOME,
                correct=scores(known, top, resources),
                phase=inv.trust_phase,
                payload={
                    "actual": claim_dict(actual),
                    "resources": [r.to_dict() for r in resources],
                    "top": top[1] if top else None,
                    "note": note,
                },
                created_at=now,
            )
            s.add(row)
            self._audit.append_in(
                s,
                [
                    human_entry(
                        caller,
                        intent=note or "record the known outcome",
                        decision=OUTCOME,
                        request={
                            "verdict": row.id,
                            "actual": claim_dict(actual),
                            "correct": row.correct,
                        },
                        investigation_id=inv_id,
                    )
                ],
            )
            return _view(row, agent.name, caller.name)

    def list(self, inv_id: str) -> list[VerdictView]:
        with self._db.read() as s:
            # The id only: the row's result can be megabytes of JSON to decode.
            if s.scalar(select(InvestigationRow.id).where(InvestigationRow.id == inv_id)) is None:
                raise NotFound(f"no investigation {inv_id!r}")
            rows = s.execute(
                select(VerdictRow, AgentRow.name, UserRow.name)
                .join(AgentRow, AgentRow.id == VerdictRow.agent_id)
                .outerjoin(UserRow, UserRow.id == VerdictRow.author_id)
                .where(VerdictRow.investigation_id == inv_id)
                .order_by(VerdictRow.created_at)
            ).all()
            return [_view(r, a, u) for r, a, u in rows]

    @staticmethod
    def _finished(s: Session, inv_id: str) -> tuple[InvestigationRow, AgentRow]:
        inv = s.get(InvestigationRow, inv_id)
        if inv is None:
            raise NotFound(f"no investigation {inv_id!r}")
        if not InvestigationStatus(inv.status).terminal:
            raise Conflict(f"investigation is still {inv.status}; judge it when it has ended")
        agent = s.get(AgentRow, inv.agent_id)
        assert agent is not None
        return inv, agent

    @staticmethod
    def _existing(s: Session, inv_id: str, *, judged: bool) -> bool:
        kinds = [k.value for k in VerdictKind] if judged else [OUTCOME]
        found = s.scalar(
            select(VerdictRow.id).where(
                VerdictRow.investigation_id == inv_id, VerdictRow.kind.in_(kinds)
            )
        )
        return found is not None


def _view(row: VerdictRow, agent: str, author: str | None) -> VerdictView:
    return VerdictView(
        id=row.id,
        investigation_id=row.investigation_id,
        agent=agent,
        kind=row.kind,
        author=author,
        minimal_edit=row.minimal_edit,
        correct=row.correct,
        phase=TrustPhase(row.phase),
        payload=dict(row.payload),
        created_at=row.created_at,
    )
