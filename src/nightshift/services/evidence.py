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

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import load_only

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
# What an incident record reads of its investigation (not its result).
_INCIDENT_COLUMNS = (
    InvestigationRow.id,
    InvestigationRow.created_at,
    InvestigationRow.finished_at,
    InvestigationRow.trust_phase,
    InvestigationRow.spec,
)


class EvidenceService:
    def __init__(self, db: Database) -> None:
        self._db = db

    def evidence_for(
        self, agent_name: str, phase: TrustPhase, since: datetime | None = None
    ) -> PhaseEvidence:
        r = self.records(agent_name)
        return tally(phase, r.incidents, r.remediations, r.escalations, since=since)

    def records(self, agent: str, since: datetime | None = None) -> AgentRecords:
        """The agent's records; with ``since``, only those at or after it (what a
        window judges), read without the investigations' results: the demotion
        check reads every agent every few seconds, and the whole history of a
        busy agent is thousands of rows of tens of kilobytes each."""
        with self._db.read() as s:
            agent_id = s.scalar(select(AgentRow.id).where(AgentRow.name == agent))
            if agent_id is None:
                raise NotFound(f"no agent named {agent!r}")
            diagnosed: list[ColumnElement[bool]] = [
                InvestigationRow.agent_id == agent_id,
                InvestigationRow.status.in_(_DIAGNOSED),
            ]
            if since is not None:  # an incident is at its end (or, unended, its start)
                ended = func.coalesce(InvestigationRow.finished_at, InvestigationRow.created_at)
                diagnosed.append(ended >= since)
            in_window = select(InvestigationRow.id).where(*diagnosed)
            invs = list(
                s.scalars(
                    select(InvestigationRow)
                    .options(load_only(*_INCIDENT_COLUMNS))
                    .where(*diagnosed)
                )
            )
            verdicts_of = select(VerdictRow).where(VerdictRow.agent_id == agent_id)
            proposals_of = select(ActionProposalRow).where(ActionProposalRow.agent_id == agent_id)
            escalations_of = select(EscalationRow).where(
                EscalationRow.agent_id == agent_id, EscalationRow.correct.is_not(None)
            )
            if since is not None:
                # A verdict counts through its investigation; a proposal through its
                # investigation (unsafe and out-of-scope attempts) or its own latest
                # time (executed, decided, requested: a remediation's or a refusal's).
                verdicts_of = verdicts_of.where(VerdictRow.investigation_id.in_(in_window))
                latest = func.coalesce(
                    ActionProposalRow.executed_at,
                    ActionProposalRow.decided_at,
                    ActionProposalRow.created_at,
                )
                proposals_of = proposals_of.where(
                    or_(ActionProposalRow.investigation_id.in_(in_window), latest >= since)
                )
                resolved = func.coalesce(EscalationRow.resolved_at, EscalationRow.created_at)
                escalations_of = escalations_of.where(resolved >= since)
            verdicts = list(s.scalars(verdicts_of))
            proposals = list(s.scalars(proposals_of))
            escalations = list(s.scalars(escalations_of))
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
