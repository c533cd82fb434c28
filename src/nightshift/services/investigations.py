"""Investigation use cases: submission and admission, reads, the worker
protocol (events, result) and terminal transitions. Owns its transactions.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event, func, insert, select
from sqlalchemy.orm import Session

from nightshift.domain.access import Caller
from nightshift.domain.ids import new_ordered_id
from nightshift.domain.investigations import (
    WAITING_STATUSES,
    WORKER_TERMINAL,
    InvalidTransition,
    check_transition,
)
from nightshift.domain.vocabulary import Domain, InvestigationStatus, Tier, TrustPhase
from nightshift.services.concealment import (
    CONCEALED,
    HIDDEN_EVENT_KINDS,
    Reader,
    conceal_event,
    conceals,
)
from nightshift.services.errors import Conflict, Forbidden, Invalid, NotFound, QueueFull
from nightshift.services.ports import (
    EventNotifier,
    QueueListener,
    ScenarioCatalog,
    TerminationListener,
)
from nightshift.services.principals import revoke_worker_tokens
from nightshift.services.worker_specs import EvidenceSources, NoSources, spec_for
from nightshift.store.database import Database
from nightshift.store.tables import AgentRow, InvestigationEventRow, InvestigationRow, UserRow

log = logging.getLogger(__name__)
# Session.info key: investigations re-queued in the session's transaction, told to
# the queue listeners when it commits.
_REQUEUED = "nightshift.requeued"

S = InvestigationStatus
Events = Sequence[tuple[str, Mapping[str, Any]]]
# An observer sees a whole posted batch, in order, inside the appending
# transaction: the audit chain is locked and flushed once per post, not per event.
EventObserver = Callable[[Session, InvestigationRow, Events], None]
MAX_EVENTS_PER_POST = 500
MAX_EVENTS_PER_INVESTIGATION = 20_000


@dataclass(frozen=True, slots=True)
class SubmitRequest:
    """A submission; fields left empty are filled from the scenario, if one is named."""

    agent: str
    title: str = ""
    tier: Tier | None = None
    priority: int = 2
    scenario: str | None = None
    domains: tuple[Domain, ...] = ()
    namespace: str | None = None
    alert: Mapping[str, str] = field(default_factory=dict)
    deadline_seconds: int | None = None
    # What started it, when not a person: e.g. {"kind": "alerts", "group_id": ...}.
    origin: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ChainPlacement:
    """Where a delegated investigation sits: its chain, parent, depth and the
    ``Nightshift-Chain`` header (path and remaining budget) its worker inherits."""

    chain_id: str
    parent_id: str
    depth: int
    header: str


@dataclass(frozen=True, slots=True)
class AdmissionPolicy:
    queue_capacity: int
    retry_after_seconds: int
    deadline_seconds: Mapping[Tier, int]


@dataclass(frozen=True, slots=True)
class InvestigationView:
    id: str
    agent: str
    title: str
    scenario: str | None
    tier: Tier
    priority: int
    status: InvestigationStatus
    reason: str
    trust_phase: TrustPhase  # the agent's phase at submission
    spec: Mapping[str, Any]
    result: Mapping[str, Any] | None
    chain_id: str
    depth: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    deadline_at: datetime | None
    event_count: int
    resources: Mapping[str, Any] | None
    reviewed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class EventView:
    seq: int
    kind: str
    data: Mapping[str, Any]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Page:
    items: Sequence[InvestigationView]
    next_cursor: str | None


def boundary_domains(boundaries: Mapping[str, Any]) -> tuple[Domain, ...]:
    """The domains an agent's stored boundaries grant (unknown names ignored)."""
    known = {d.value for d in Domain}
    return tuple(Domain(d) for d in boundaries.get("domains") or () if d in known)


def _view(row: InvestigationRow, agent_name: str) -> InvestigationView:
    return InvestigationView(
        id=row.id,
        agent=agent_name,
        title=row.title,
        scenario=row.scenario,
        tier=Tier(row.tier),
        priority=row.priority,
        status=S(row.status),
        reason=row.reason,
        trust_phase=TrustPhase(row.trust_phase),
        spec=row.spec,
        result=row.result,
        chain_id=row.chain_id,
        depth=row.depth,
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        deadline_at=row.deadline_at,
        event_count=row.event_count,
        resources=row.resources,
        reviewed_at=row.reviewed_at,
    )


def conceal_view(view: InvestigationView) -> InvestigationView:
    """The view without its diagnosis: no result, and no reason once it has ended."""
    return replace(view, result=None, reason=CONCEALED if view.status.terminal else view.reason)


def as_seen_by(view: InvestigationView, caller: Reader) -> InvestigationView:
    """The view as ``caller`` may see it: concealed while its shadow output awaits review."""
    return conceal_view(view) if conceals(view.trust_phase, view.reviewed_at, caller) else view


class InvestigationService:
    """Every read (``get``, ``search``, ``events``, and ``cancel``'s answer) takes its
    reader and answers what they may see: unreviewed shadow output is concealed
    here, so no route or page has to remember to hide it (``concealment``)."""

    def __init__(
        self,
        db: Database,
        admission: AdmissionPolicy,
        notifier: EventNotifier,
        *,
        scenarios: ScenarioCatalog | None = None,
        sources: EvidenceSources | None = None,
    ) -> None:
        self._db = db
        self._admission = admission
        self._notifier = notifier
        self._scenarios = scenarios
        self._sources: EvidenceSources = sources or NoSources()
        self._listeners: list[TerminationListener] = []
        self._queue_listeners: list[QueueListener] = []
        self._admission_checks: list[Callable[[str], str | None]] = []
        self._event_observers: list[EventObserver] = []
        # Serializes the capacity check with the insert inside this process;
        # PostgreSQL additionally takes an advisory lock for other replicas.
        self._admit_lock = threading.Lock()

    def add_termination_listener(self, listener: TerminationListener) -> None:
        self._listeners.append(listener)

    def add_queue_listener(self, listener: QueueListener) -> None:
        """Told after each submission that entered the queue (not one held), and
        after each re-queue (a released hold, a lapsed replica's unit) commits."""
        self._queue_listeners.append(listener)

    def add_event_observer(self, observer: EventObserver) -> None:
        """Sees every worker batch inside the appending transaction (e.g. to audit it)."""
        self._event_observers.append(observer)

    def add_admission_check(self, check: Callable[[str], str | None]) -> None:
        """``check(agent_name)`` returns why a submission is refused, or None."""
        self._admission_checks.append(check)

    # -- submission -------------------------------------------------------

    def submit(
        self, req: SubmitRequest, caller: Caller, *, placement: ChainPlacement | None = None
    ) -> InvestigationView:
        """Admit an investigation; ``placement`` puts it in an existing chain (delegation)."""
        req = self._complete(req)
        for check in self._admission_checks:
            refusal = check(req.agent)
            if refusal:
                raise Conflict(refusal)
        tier = req.tier or Tier.SINGLE_DOMAIN
        deadline = req.deadline_seconds or self._admission.deadline_seconds[tier]
        with self._admit_lock, self._db.transaction() as s:
            if s.get_bind().dialect.name == "postgresql":
                s.execute(select(func.pg_advisory_xact_lock(0x6E73_6164)))  # "nsad"
            agent = s.scalar(select(AgentRow).where(AgentRow.name == req.agent))
            if agent is None:
                raise NotFound(f"no agent named {req.agent!r}")
            owner = s.get(UserRow, agent.owner_id)
            held_reason = _hold_reason(agent, owner)
            waiting = s.scalar(
                select(func.count())
                .select_from(InvestigationRow)
                .where(InvestigationRow.status.in_([st.value for st in WAITING_STATUSES]))
            )
            if (waiting or 0) >= self._admission.queue_capacity:
                raise QueueFull(
                    f"admission queue is full ({self._admission.queue_capacity} waiting); "
                    "retry later",
                    retry_after=self._admission.retry_after_seconds,
                )
            inv_id = new_ordered_id()
            status = S.HELD if held_reason else S.QUEUED
            row = InvestigationRow(
                id=inv_id,
                agent_id=agent.id,
                title=req.title,
                scenario=req.scenario,
                tier=tier.value,
                priority=req.priority,
                status=status.value,
                reason=held_reason,
                spec=spec_for(
                    question=req.title,
                    scenario=req.scenario,
                    tier=tier,
                    domains=req.domains,
                    boundary_domains=boundary_domains(agent.boundaries),
                    namespace=req.namespace,
                    alert=req.alert,
                    deadline_seconds=deadline,
                    chain_header=placement.header if placement else None,
                    origin=req.origin,
                    sources=self._sources,
                ),
                chain_id=placement.chain_id if placement else inv_id,
                parent_id=placement.parent_id if placement else None,
                depth=placement.depth if placement else 0,
                submitted_by=caller.user_id,
                trust_phase=agent.trust_phase,
                event_count=0,
            )
            s.add(row)
            s.flush()
            self._append(s, row, "status", {"status": status.value, "reason": held_reason})
            view = _view(row, agent.name)
        self._notifier.publish(inv_id)
        if status is S.QUEUED:
            for listener in self._queue_listeners:
                listener.investigation_queued(inv_id)
        return view

    def _complete(self, req: SubmitRequest) -> SubmitRequest:
        if req.scenario is None:
            if not req.title:
                raise Invalid("give a title (the question or alert) or a scenario")
            return replace(req, tier=req.tier or Tier.SINGLE_DOMAIN)
        brief = self._scenarios.describe(req.scenario) if self._scenarios else None
        if brief is None:
            raise Invalid(f"unknown scenario {req.scenario!r} (see `nightshift scenarios`)")
        return replace(
            req,
            title=req.title or brief.question[:512],
            tier=req.tier or brief.tier,
            domains=req.domains or brief.domains,
            alert=req.alert or brief.alert,
        )

    # -- reads ------------------------------------------------------------

    def get(self, inv_id: str, caller: Reader) -> InvestigationView:
        """The investigation as ``caller`` may see it: while its shadow output awaits
        review, without its result and its final reason (``conceal_view``)."""
        return as_seen_by(self._read(inv_id), caller)

    def conceals(self, inv_id: str, caller: Reader) -> bool:
        """Is this investigation's output hidden from ``caller`` (its worker log, say)?"""
        view = self._read(inv_id)
        return conceals(view.trust_phase, view.reviewed_at, caller)

    def _read(self, inv_id: str) -> InvestigationView:
        with self._db.read() as s:
            found = s.execute(
                select(InvestigationRow, AgentRow.name)
                .join(AgentRow, AgentRow.id == InvestigationRow.agent_id)
                .where(InvestigationRow.id == inv_id)
            ).first()
            if found is None:
                raise NotFound(f"no investigation {inv_id!r}")
            return _view(found[0], found[1])

    def search(
        self,
        caller: Reader,
        *,
        status: InvestigationStatus | None = None,
        agent: str | None = None,
        tier: Tier | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page:
        """Newest first, each as ``caller`` may see it; ``cursor`` is the last id of
        the previous page."""
        q = select(InvestigationRow, AgentRow.name).join(
            AgentRow, AgentRow.id == InvestigationRow.agent_id
        )
        if status is not None:
            q = q.where(InvestigationRow.status == status.value)
        if agent is not None:
            q = q.where(AgentRow.name == agent)
        if tier is not None:
            q = q.where(InvestigationRow.tier == tier.value)
        if cursor is not None:
            q = q.where(InvestigationRow.id < cursor)
        q = q.order_by(InvestigationRow.id.desc()).limit(limit + 1)
        with self._db.read() as s:
            rows = s.execute(q).all()
        items = [as_seen_by(_view(r[0], r[1]), caller) for r in rows[:limit]]
        return Page(items=items, next_cursor=items[-1].id if len(rows) > limit else None)

    def events(
        self,
        inv_id: str,
        caller: Reader,
        after: int = 0,
        limit: int = 500,
        kinds: Sequence[str] | None = None,
        newest: bool = False,
    ) -> list[EventView]:
        """Events after ``after`` in order, at most ``limit``: the first ones, or with
        ``newest`` the last ones (still in order); only ``kinds`` when given.

        While the investigation's shadow output is concealed from ``caller`` the
        diagnosis events are left out (by the query, so that ``limit`` counts what
        the caller sees and a follower's cursor always moves on) and a final
        status loses its reason."""
        with self._db.read() as s:
            # Not the whole row: its result can be megabytes of JSON to decode.
            found = s.execute(
                select(InvestigationRow.trust_phase, InvestigationRow.reviewed_at).where(
                    InvestigationRow.id == inv_id
                )
            ).first()
            if found is None:
                raise NotFound(f"no investigation {inv_id!r}")
            hide = conceals(found[0], found[1], caller)
            q = select(InvestigationEventRow).where(
                InvestigationEventRow.investigation_id == inv_id,
                InvestigationEventRow.seq > after,
            )
            if kinds is not None:
                q = q.where(InvestigationEventRow.kind.in_(list(kinds)))
            if hide:
                q = q.where(InvestigationEventRow.kind.not_in(sorted(HIDDEN_EVENT_KINDS)))
            order = InvestigationEventRow.seq.desc() if newest else InvestigationEventRow.seq
            rows = list(s.scalars(q.order_by(order).limit(limit)))
            if newest:
                rows.reverse()
            views = [EventView(r.seq, r.kind, r.data, r.created_at) for r in rows]
        return [_concealed(v) for v in views] if hide else views

    # -- operator actions ---------------------------------------------------

    def cancel(self, inv_id: str, caller: Caller, reason: str = "") -> InvestigationView:
        """Cancel it; the answer is the ended investigation as ``caller`` may see it."""
        why = f"cancelled by {caller.name}" + (f": {reason}" if reason else "")
        return as_seen_by(self.terminate(inv_id, S.CANCELLED, why), caller)

    # -- worker protocol ------------------------------------------------------

    def append_events(self, inv_id: str, caller: Caller, events: Events) -> int:
        """Append worker events; the first one marks the investigation running."""
        self._require_worker(caller, inv_id)
        if len(events) > MAX_EVENTS_PER_POST:
            raise Invalid(f"at most {MAX_EVENTS_PER_POST} events per request")
        with self._db.transaction() as s:
            row = self._locked(s, inv_id)
            current = S(row.status)
            if current.terminal:
                raise Conflict(f"investigation is already {current.value}")
            if row.event_count + len(events) > MAX_EVENTS_PER_INVESTIGATION:
                raise Invalid("event limit for this investigation reached")
            if current is S.DISPATCHED:
                row.status = S.RUNNING.value
                row.started_at = datetime.now(UTC)
                self._append(s, row, "status", {"status": S.RUNNING.value, "reason": ""})
            self._append_batch(s, row, events)
            for observer in self._event_observers:
                observer(s, row, events)
            count = row.event_count
        self._notifier.publish(inv_id)
        return count

    def post_result(
        self,
        inv_id: str,
        caller: Caller,
        status: InvestigationStatus,
        reason: str,
        result: Mapping[str, Any] | None,
    ) -> InvestigationView:
        self._require_worker(caller, inv_id)
        if status not in WORKER_TERMINAL:
            raise Invalid(
                "a worker may only report " + ", ".join(sorted(s.value for s in WORKER_TERMINAL))
            )
        return self.terminate(inv_id, status, reason, result=result)

    def spec_for_worker(self, inv_id: str, caller: Caller) -> InvestigationView:
        self._require_worker(caller, inv_id)
        return self._read(inv_id)

    # -- control-plane transitions -------------------------------------------

    def record_event(self, inv_id: str, kind: str, data: Mapping[str, Any]) -> bool:
        """Append a control-plane event (e.g. ``alerts_resolved``) unless it has ended."""
        with self._db.transaction() as s:
            row = self._locked(s, inv_id)
            if S(row.status).terminal:
                return False
            self._append(s, row, kind, data)
        self._notifier.publish(inv_id)
        return True

    def terminate(
        self,
        inv_id: str,
        status: InvestigationStatus,
        reason: str,
        *,
        result: Mapping[str, Any] | None = None,
        resources: Mapping[str, Any] | None = None,
        only_if_active: bool = False,
        only_if_replica: str | None = None,
    ) -> InvestigationView:
        """Move to a terminal state exactly once, with a reason.

        ``only_if_active`` makes it a no-op (returning the current view) when
        the investigation already ended, for racing reporters such as the
        executor's exit watcher and the worker's own result post.
        ``only_if_replica`` makes it a no-op unless that replica still owns the
        investigation: a unit's late exit must not end a later attempt that
        another replica dispatched after a recovery re-queued it.
        """
        assert status.terminal
        with self._db.transaction() as s:
            row = self._locked(s, inv_id)
            current = S(row.status)
            stale = only_if_replica is not None and row.replica != only_if_replica
            if (current.terminal and only_if_active) or stale:
                if resources and row.resources is None and not stale:
                    row.resources = dict(resources)
                agent_name = s.scalar(select(AgentRow.name).where(AgentRow.id == row.agent_id))
                return _view(row, agent_name or "")
            try:
                check_transition(current, status)
            except InvalidTransition as exc:
                raise Conflict(str(exc)) from exc
            row.status = status.value
            row.reason = reason[:4000]
            row.finished_at = datetime.now(UTC)
            if result is not None:
                row.result = dict(result)
            if resources is not None:
                row.resources = dict(resources)
            revoke_worker_tokens(s, inv_id)
            self._append(s, row, "status", {"status": status.value, "reason": row.reason})
            agent_name = s.scalar(select(AgentRow.name).where(AgentRow.id == row.agent_id))
            view = _view(row, agent_name or "")
        self._notifier.publish(inv_id)
        self._tell_listeners(inv_id, status.value, reason)
        return view

    def _tell_listeners(self, inv_id: str, status: str, reason: str) -> None:
        """Every listener hears of the end, whatever the others do: a unit that cannot
        be stopped (the API server is down) must not keep the credential broker from
        revoking the investigation's leases. A failing listener is logged; its own
        reconcile pass (orphan sweep, revoke_pending retry) picks the work up later."""
        for listener in self._listeners:
            try:
                listener.investigation_ended(inv_id, status, reason)
            except Exception:
                log.exception(
                    "termination listener %s failed for %s", type(listener).__name__, inv_id
                )

    def transition(
        self, s: Session, row: InvestigationRow, status: InvestigationStatus, reason: str = ""
    ) -> None:
        """A non-terminal transition inside the caller's transaction."""
        check_transition(S(row.status), status)
        row.status = status.value
        row.reason = reason
        if status is S.DISPATCHED:
            row.dispatched_at = datetime.now(UTC)
            row.attempts += 1
        self._append(s, row, "status", {"status": status.value, "reason": reason})
        if status is S.QUEUED:
            self._tell_queued_after_commit(s, row.id)

    def _tell_queued_after_commit(self, s: Session, inv_id: str) -> None:
        """A re-queue (a released hold, a lapsed replica's unit) tells the queue
        listeners once its transaction commits, as a submission does: without it
        the dispatcher found the work only at its safety timer, a second later."""
        queued: list[str] | None = s.info.get(_REQUEUED)
        if queued is None:
            queued = s.info[_REQUEUED] = []

            def committed(session: Session) -> None:
                for inv in session.info.pop(_REQUEUED, []):
                    for listener in self._queue_listeners:
                        listener.investigation_queued(inv)

            event.listen(s, "after_commit", committed, once=True)
            # Rolled back, nothing entered the queue.
            event.listen(s, "after_rollback", lambda session: session.info.pop(_REQUEUED, None))
        queued.append(inv_id)

    # -- internals --------------------------------------------------------

    def _append(
        self, s: Session, row: InvestigationRow, kind: str, data: Mapping[str, Any]
    ) -> None:
        row.event_count += 1
        s.add(
            InvestigationEventRow(
                investigation_id=row.id, seq=row.event_count, kind=kind, data=dict(data)
            )
        )

    def _append_batch(self, s: Session, row: InvestigationRow, events: Events) -> None:
        """One multi-row INSERT for a posted batch: the ORM's per-object unit of
        work was most of the control plane's CPU per investigation."""
        if not events:
            return
        first = row.event_count + 1
        row.event_count += len(events)
        now = datetime.now(UTC)
        s.execute(
            insert(InvestigationEventRow),
            [
                {"investigation_id": row.id, "seq": first + i, "kind": kind,
                 "data": dict(data), "created_at": now}
                for i, (kind, data) in enumerate(events)
            ],
        )  # fmt: skip

    def _locked(self, s: Session, inv_id: str) -> InvestigationRow:
        row = s.get(InvestigationRow, inv_id, with_for_update=True)
        if row is None:
            raise NotFound(f"no investigation {inv_id!r}")
        return row

    @staticmethod
    def _require_worker(caller: Caller, inv_id: str) -> None:
        if caller.investigation_id != inv_id:
            raise Forbidden("only this investigation's worker may use this endpoint")


def _concealed(event: EventView) -> EventView:
    """A kept event as a concealed caller sees it (only a final status changes)."""
    data = conceal_event(event.kind, event.data)
    return event if data is None or data is event.data else replace(event, data=data)


def _hold_reason(agent: AgentRow, owner: UserRow | None) -> str:
    if agent.status != "active":
        return f"agent {agent.name} is {agent.status}: {agent.status_reason}".rstrip(": ")
    if owner is None or not owner.active:
        return f"owner of agent {agent.name} is inactive; transfer ownership to run it"
    return ""


def deadline_from(now: datetime, seconds: int) -> datetime:
    return now + timedelta(seconds=seconds)
