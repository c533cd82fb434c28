"""Recorded work -> governance evidence records, so the gates see real numbers.

Investigations with their verdicts and known outcomes become
``IncidentRecord``s, executed proposals ``RemediationRecord``s, judged
escalations ``EscalationRecord``s. ``evidence_for`` tallies one phase;
``records`` is the ``EvidenceSource`` the phase service (gates, demotion) reads.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import select

from nightshift.domain.verdicts import Verdict, VerdictKind
from nightshift.domain.vocabulary import Domain, InvestigationStatus, TrustPhase
from nightshift.governance.evidence import (
    EscalationRecord,
    IncidentRecord,
    PhaseEvidence,
    RemediationRecord,
    tally,
)
from nightshift.services.errors import NotFound
from nightshift.services.ports import AgentRecords
from nightshift.services.proposals import DENIED, EXECUTED, FAILED, ROLLED_BACK, UNSAFE_REASONS
from nightshift.services.verdicts import OUTCOME, claim_from
from nightshift.store.database import Database
from nightshift.store.tables import (
    ActionProposalRow,
    AgentRow,
    EscalationRow,
    InvestigationRow,
    UserRow,
    VerdictRow,
    as_utc,
)

_DIAGNOSED = (InvestigationStatus.SUCCEEDED.value, InvestigationStatus.ESCALATED.value)
_OUT_OF_SCOPE = "out_of_scope"


class EvidenceService:
    def __init__(self, db: Database) -> None:
        self._db = db

    def evidence_for(
        self, agent_name: str, phase: TrustPhase, since: datetime | None = None
    ) -> PhaseEvidence:
        r = self.records(agent_name)
        return tally(phase, r.incidents, r.remediations, r.escalations, since=since)

    def records(self, agent: str) -> AgentRecords:
        with self._db.read() as s:
            agent_id = s.scalar(select(AgentRow.id).where(AgentRow.name == agent))
            if agent_id is None:
                raise NotFound(f"no agent named {agent!r}")
            invs = list(
                s.scalars(
                    select(InvestigationRow).where(
                        InvestigationRow.agent_id == agent_id,
                        InvestigationRow.status.in_(_DIAGNOSED),
                    )
                )
            )
            verdicts = list(s.scalars(select(VerdictRow).where(VerdictRow.agent_id == agent_id)))
            proposals = list(
                s.scalars(select(ActionProposalRow).where(ActionProposalRow.agent_id == agent_id))
            )
            escalations = list(
                s.scalars(
                    select(EscalationRow).where(
                        EscalationRow.agent_id == agent_id, EscalationRow.correct.is_not(None)
                    )
                )
            )
            names = dict(s.execute(select(UserRow.id, UserRow.name)).all())
        return AgentRecords(
            incidents=tuple(_incidents(invs, verdicts, proposals, names)),
            remediations=tuple(_remediations(proposals, names)),
            escalations=tuple(
                EscalationRecord(
                    as_utc(e.resolved_at or e.created_at),
                    TrustPhase(e.phase or TrustPhase.SHADOW.value),
                    bool(e.correct),
                )
                for e in escalations
            ),
            out_of_scope_actions=tuple(
                as_utc(p.created_at) for p in proposals if _reason(p) == _OUT_OF_SCOPE
            ),
        )


def _reason(p: ActionProposalRow) -> str:
    return str((p.decision or {}).get("reason", ""))


def _incidents(
    invs: list[InvestigationRow],
    verdicts: list[VerdictRow],
    proposals: list[ActionProposalRow],
    names: dict[str, str],
) -> list[IncidentRecord]:
    judged: dict[str, VerdictRow] = {}
    known: dict[str, VerdictRow] = {}
    for v in verdicts:
        (known if v.kind == OUTCOME else judged)[v.investigation_id] = v
    unsafe: Counter[str] = Counter()
    oos: Counter[str] = Counter()
    for p in proposals:
        if p.status == DENIED and _reason(p) in UNSAFE_REASONS:
            unsafe[p.investigation_id] += 1
        if _reason(p) == _OUT_OF_SCOPE:
            oos[p.investigation_id] += 1
    out = []
    for inv in invs:
        outcome = known.get(inv.id)
        out.append(
            IncidentRecord(
                at=as_utc(inv.finished_at or inv.created_at),
                phase=TrustPhase(inv.trust_phase),
                domains=_domains(inv.spec),
                correct=outcome.correct if outcome is not None else None,
                verdict=_verdict(judged.get(inv.id), names),
                unsafe_action_attempts=unsafe[inv.id],
                out_of_scope_requests=oos[inv.id],
            )
        )
    return out


def _domains(spec: dict[str, Any]) -> frozenset[Domain]:
    found = set()
    for d in spec.get("domains") or ():
        try:
            found.add(Domain(d))
        except ValueError:
            continue
    return frozenset(found)


def _verdict(row: VerdictRow | None, names: dict[str, str]) -> Verdict | None:
    if row is None:
        return None
    p = row.payload
    modified = p.get("modified")
    return Verdict(
        investigation_id=row.investigation_id,
        operator_id=names.get(row.author_id or "", row.author_id or "?"),
        kind=VerdictKind(row.kind),
        original=claim_from(p["original"]),
        at=as_utc(row.created_at),
        modified=claim_from(modified) if modified else None,
        reason=str(p.get("reason") or "") or ("-" if row.kind == VerdictKind.REJECT else ""),
    )


def _remediations(
    proposals: list[ActionProposalRow], names: dict[str, str]
) -> list[RemediationRecord]:
    by_status: defaultdict[str, list[ActionProposalRow]] = defaultdict(list)
    for p in proposals:
        by_status[p.status].append(p)
    out = []
    for p in [*by_status[EXECUTED], *by_status[FAILED], *by_status[ROLLED_BACK]]:
        result = p.result or {}
        out.append(
            RemediationRecord(
                at=as_utc(p.executed_at or p.decided_at or p.created_at),
                phase=TrustPhase(p.phase),
                action=p.action_type,
                approved_by=names.get(p.decided_by) if p.decided_by else None,
                completed=p.status != FAILED and bool(result.get("verified")),
                rolled_back=p.rolled_back_at is not None,
            )
        )
    return out
