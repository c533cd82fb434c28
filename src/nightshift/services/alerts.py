"""Alert intake: store every alert, group it per routing rule, start at most one
investigation per group, hold back past the storm limits (one escalation says
so), and note on the investigation when all of its alerts have resolved.

One notification is one transaction (alerts, memberships, claims and the storm
escalation); investigations are submitted after it commits, through
InvestigationService.submit, so trust phases, admission and the kill switch
apply exactly as for a person's submission (docs/alerts.md).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nightshift.domain.access import Caller
from nightshift.domain.alerts import AlertStatus, Notification, RouteRule, common_labels, title_for
from nightshift.domain.vocabulary import InvestigationStatus
from nightshift.services.alert_grouping import PENDING, STARTED, Grouper, Grouping, claim
from nightshift.services.alert_routes import AlertRouteService
from nightshift.services.alert_store import (
    firing_groups,
    member_alerts,
    member_resolved,
    upsert_alerts,
)
from nightshift.services.errors import Forbidden, ServiceError
from nightshift.services.escalations import EscalationService
from nightshift.services.investigations import InvestigationService, SubmitRequest
from nightshift.store.database import Database
from nightshift.store.tables import AgentRow, AlertGroupRow, EscalationRow

log = logging.getLogger(__name__)
SATURATED = "alerts_saturated"
_NAMESPACE = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
MAX_SPEC_LABELS = 64


@dataclass(frozen=True, slots=True)
class IntakePolicy:
    max_investigations_per_minute: int
    cancel_on_resolve: bool = False


@dataclass(frozen=True, slots=True)
class IntakeResult:
    received: int
    created: int
    updated: int
    groups: tuple[str, ...]
    started: tuple[str, ...]  # investigation ids started by this notification
    pending: int  # groups held back (storm limit, kill switch, full queue)


class AlertIntakeService:
    def __init__(
        self,
        db: Database,
        routes: AlertRouteService,
        investigations: InvestigationService,
        escalations: EscalationService,
        policy: IntakePolicy,
        *,
        refusal: Callable[[str], str | None] = lambda _agent: None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._db = db
        self._routes = routes
        self._investigations = investigations
        self._escalations = escalations
        self._policy = policy
        self._refusal = refusal  # the kill switch's admission check
        self._clock = clock
        # Serializes grouping within this process; PostgreSQL also takes an
        # advisory lock so that replicas do not open two groups for one key.
        self._lock = threading.Lock()

    def ingest(self, n: Notification, caller: Caller) -> IntakeResult:
        rules = {r.name: r for r in self._routes.active_rules()}
        blocked = {r.agent: self._refusal(r.agent) for r in rules.values()}
        with self._lock:
            now = self._clock()
            claimed, escalation, grouping, counts = self._store(n, rules, blocked, now)
            self._escalations.deliver([escalation])
            started = [self._start(g, rules[r], caller) for g, r in claimed]
        if any(a.status is AlertStatus.RESOLVED for a in n.alerts):
            self._note_resolved(list(grouping.touched))
        return IntakeResult(
            received=len(n.alerts),
            created=counts[0],
            updated=counts[1],
            groups=tuple(grouping.touched),
            started=tuple(i for i in started if i),
            pending=sum(1 for i in started if not i) + counts[2],
        )

    def _store(
        self,
        n: Notification,
        rules: dict[str, RouteRule],
        blocked: dict[str, str | None],
        now: datetime,
    ) -> tuple[list[tuple[str, str]], str | None, Grouping, tuple[int, int, int]]:
        grouping = Grouping()
        with self._db.transaction() as s:
            if s.get_bind().dialect.name == "postgresql":
                s.execute(select(func.pg_advisory_xact_lock(0x6E73_616C)))  # "nsal"
            upserted = upsert_alerts(s, n, now)
            s.flush()
            grouper = Grouper(s, now)
            grouper.preload([u.row.id for u in upserted])
            for u in upserted:
                for rule in rules.values():
                    if rule.selects(u.row.labels):
                        grouper.route(u.row, rule, n.group_key, grouping)
            s.flush()
            firing = firing_groups(s, list(grouping.touched))
            candidates = [g for g in grouping.touched.values() if g.id in firing]
            claimed, stormed = claim(
                s, candidates, rules, self._policy.max_investigations_per_minute, blocked, now
            )
            escalation = self._saturated(s, stormed, rules) if stormed else None
            held = sum(1 for g in candidates if g.state == PENDING)
            created = sum(1 for u in upserted if u.created)
            pairs = [(g.id, g.rule) for g in claimed]
        return pairs, escalation, grouping, (created, len(upserted) - created, held)

    def _saturated(
        self, s: Session, stormed: Sequence[AlertGroupRow], rules: dict[str, RouteRule]
    ) -> str | None:
        """One open escalation for a saturated intake, however many groups it holds back."""
        open_one = s.scalar(
            select(EscalationRow.id).where(
                EscalationRow.kind == SATURATED, EscalationRow.status == "open"
            )
        )
        if open_one:
            for g in stormed:
                g.escalation_id = open_one
            return None
        first = stormed[0]
        agent = s.scalar(select(AgentRow).where(AgentRow.name == rules[first.rule].agent))
        if agent is None:
            return None
        esc = self._escalations.open_in(
            s,
            agent,
            kind=SATURATED,
            summary=(
                "alert automation is saturated: investigations from alerts are held back "
                f"({first.reason.removeprefix('not started: ')}); the alerts are stored, "
                "and held groups start on their next notification once under the limit"
            ),
            extra={"rule": first.rule, "groups_held": len(stormed)},
            system=True,
        )
        for g in stormed:
            g.escalation_id = esc
        return esc

    def _start(self, group_id: str, rule: RouteRule, caller: Caller) -> str | None:
        with self._db.read() as s:
            alerts = [a for m, a in member_alerts(s, [group_id]) if not member_resolved(m, a)]
            group = s.get(AlertGroupRow, group_id)
            assert group is not None
            key = group.group_key
        labels = common_labels([a.labels for a in alerts])
        first = alerts[0]
        namespace = labels.get("namespace")
        req = SubmitRequest(
            agent=rule.agent,
            title=title_for(first.labels, first.annotations, len(alerts)),
            tier=rule.tier,
            priority=rule.priority,
            scenario=rule.scenario,
            namespace=namespace if namespace and _NAMESPACE.match(namespace) else None,
            alert=dict(sorted(labels.items())[:MAX_SPEC_LABELS]),
            origin={"kind": "alerts", "group_id": group_id, "rule": rule.name, "group_key": key},
        )
        try:
            view = self._investigations.submit(req, caller)
        except ServiceError as exc:  # kill switch raced us, queue full, agent gone
            with self._db.transaction() as s:
                g = s.get(AlertGroupRow, group_id)
                assert g is not None
                g.state, g.claimed_at, g.reason = PENDING, None, f"not started: {exc}"[:4000]
            return None
        with self._db.transaction() as s:
            g = s.get(AlertGroupRow, group_id)
            assert g is not None
            g.state, g.investigation_id, g.reason = STARTED, view.id, ""
            for _, a in member_alerts(s, [group_id]):
                if a.investigation_id is None:
                    a.investigation_id = view.id
        return view.id

    def _note_resolved(self, group_ids: Sequence[str]) -> None:
        """Record (once) that every alert of a running group has resolved."""
        done: list[tuple[str, str, int]] = []
        with self._db.transaction() as s:
            for gid in group_ids:
                g = s.get(AlertGroupRow, gid)
                if g is None or g.investigation_id is None or g.resolved_at is not None:
                    continue
                if gid in firing_groups(s, [gid]):
                    continue
                g.resolved_at = self._clock()
                done.append((g.investigation_id, gid, len(member_alerts(s, [gid]))))
        for inv_id, gid, count in done:
            data = {
                "reason": f"all {count} alerts of group {gid} resolved before the investigation "
                "ended",
                "group_id": gid,
                "alerts": count,
            }
            if not self._investigations.record_event(inv_id, "alerts_resolved", data):
                continue
            if self._policy.cancel_on_resolve:
                self._investigations.terminate(
                    inv_id, InvestigationStatus.CANCELLED, "all alerts resolved",
                    only_if_active=True,
                )  # fmt: skip

    # -- reads for the worker ------------------------------------------------

    @staticmethod
    def require_worker(caller: Caller, inv_id: str) -> None:
        if caller.investigation_id != inv_id:
            raise Forbidden("only this investigation's worker may use this endpoint")
