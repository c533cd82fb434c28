"""The dispatch claim: which queued investigations start now, in one transaction.

The queue is the investigations table (status ``queued``). ``claim_next`` takes
as many as the caps allow, in priority then FIFO order, moves each to
``dispatched`` through the investigation service, issues its worker token and
returns what the runtime needs to start its unit (a ``Claim``); the runtime
never sees a row or a session.

Every replica of the control plane claims. On PostgreSQL a claim takes a
transaction-scoped advisory lock, so the caps (counted over the whole table)
hold across replicas, and locks the rows it takes with ``FOR UPDATE SKIP
LOCKED``, so a row another transaction holds (a cancel, another claim) is passed
over instead of waited for and no investigation is ever started twice. The
claiming replica's id goes on the row: it watches that unit.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nightshift.domain.credential_scope import credential_domains
from nightshift.domain.investigations import ACTIVE_STATUSES
from nightshift.domain.vocabulary import InvestigationStatus, Tier
from nightshift.services.investigations import InvestigationService
from nightshift.services.principals import issue_worker_token
from nightshift.store.database import Database
from nightshift.store.tables import AgentRow, InvestigationRow, UserRow

S = InvestigationStatus
_CLAIM_LOCK = 0x6E73_6463  # "nsdc": one claim at a time across replicas
# The worker token outlives the deadline a little: the worker's last post may
# land just after it, and the reconciler ends the unit anyway.
_TOKEN_GRACE = timedelta(seconds=30)

# Called for each unit being claimed, in the claiming transaction: may add to
# the row's spec (the reasoning-depth bound) and returns extra worker
# environment (the trace context). See services/telemetry.py.
PrepareLaunch = Callable[[Session, InvestigationRow], Mapping[str, str]]
# Called in a claiming transaction before it takes anything: renews this
# replica's heartbeat there, so no claim ever commits without a live heartbeat
# (the leader would take the fresh unit for a dead replica's).
ClaimGuard = Callable[[Session], None]


@dataclass(frozen=True, slots=True)
class ClaimCaps:
    """How much one claim may take, and what it stamps on what it takes."""

    max_running: int
    max_running_per_agent: int
    deadline_seconds: Mapping[Tier, int]  # when the spec names none
    replica: str = ""  # recorded on every investigation it claims


@dataclass(frozen=True, slots=True)
class Claim:
    """One investigation moved to ``dispatched``: what starting its unit needs."""

    investigation_id: str
    agent: str
    owner: str
    trust_phase: str
    tier: Tier
    token: str = field(repr=False)  # a credential: never logged
    deadline_seconds: int
    deadline_at: datetime
    credential_domains: tuple[str, ...]
    extra_env: Mapping[str, str]


class DispatchQueue:
    def __init__(
        self,
        db: Database,
        investigations: InvestigationService,
        *,
        claim_guard: ClaimGuard | None = None,
        prepare_launch: PrepareLaunch | None = None,
    ) -> None:
        self._db = db
        self._investigations = investigations
        self._claim_guard = claim_guard
        self._prepare_launch = prepare_launch

    def claim_next(self, caps: ClaimCaps) -> list[Claim]:
        """Claim as many queued investigations as the caps allow (possibly none)."""
        now = datetime.now(UTC)
        active = [st.value for st in ACTIVE_STATUSES]
        with self._db.transaction() as s:
            if s.get_bind().dialect.name == "postgresql":
                s.execute(select(func.pg_advisory_xact_lock(_CLAIM_LOCK)))
            per_agent = dict(
                s.execute(
                    select(InvestigationRow.agent_id, func.count())
                    .where(InvestigationRow.status.in_(active))
                    .group_by(InvestigationRow.agent_id)
                ).all()
            )
            free = caps.max_running - sum(per_agent.values())
            if free <= 0:
                return []
            candidates = s.execute(
                select(InvestigationRow, AgentRow.name, UserRow.name, AgentRow.settings)
                .join(AgentRow, AgentRow.id == InvestigationRow.agent_id)
                .join(UserRow, UserRow.id == AgentRow.owner_id)
                .where(InvestigationRow.status == S.QUEUED.value)
                .order_by(InvestigationRow.priority, InvestigationRow.id)
                .limit(free + 10 * caps.max_running_per_agent)
                .with_for_update(skip_locked=True, of=InvestigationRow)
            ).all()
            claims: list[Claim] = []
            if candidates and self._claim_guard is not None:
                self._claim_guard(s)
            for row, agent_name, owner_name, agent_settings in candidates:
                if len(claims) >= free:
                    break
                if per_agent.get(row.agent_id, 0) >= caps.max_running_per_agent:
                    continue
                per_agent[row.agent_id] = per_agent.get(row.agent_id, 0) + 1
                claims.append(
                    self._claim(s, row, agent_name, owner_name, agent_settings, caps, now)
                )
        return claims

    def _claim(
        self,
        s: Session,
        row: InvestigationRow,
        agent_name: str,
        owner_name: str,
        agent_settings: Mapping[str, object] | None,
        caps: ClaimCaps,
        now: datetime,
    ) -> Claim:
        tier = Tier(row.tier)
        deadline = int(row.spec.get("deadline_seconds") or caps.deadline_seconds[tier])
        row.deadline_at = now + timedelta(seconds=deadline)
        row.replica = caps.replica or None
        self._investigations.transition(s, row, S.DISPATCHED)
        token = issue_worker_token(s, row.id, row.deadline_at + _TOKEN_GRACE)
        extra_env = self._prepare_launch(s, row) if self._prepare_launch is not None else {}
        return Claim(
            investigation_id=row.id,
            agent=agent_name,
            owner=owner_name,
            trust_phase=row.trust_phase,
            tier=tier,
            token=token,
            deadline_seconds=deadline,
            deadline_at=row.deadline_at,
            credential_domains=credential_domains(row.spec.get("domains"), agent_settings),
            extra_env=dict(extra_env),
        )

    def record_worker_ref(self, investigation_id: str, worker_ref: str) -> None:
        """Where the claimed investigation's unit runs (the executor's reference)."""
        with self._db.transaction() as s:
            row = s.get(InvestigationRow, investigation_id)
            if row is not None:
                row.worker_ref = worker_ref
