"""Grouping inside the intake transaction: which group each routed alert joins,
and which groups may start an investigation now (kill switch, storm limits).

A group absorbs alerts while its investigation has not ended (or has not been
started yet), and for the rule's group window after its last alert; a
fingerprint already in a group of the same rule and key, for the same
occurrence, joins nothing new. That is what makes a replayed webhook start
nothing, however often it is replayed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nightshift.domain.alerts import (
    AlertStatus,
    RouteRule,
    StormLimits,
    group_key_for,
    storm_refusal,
    within_window,
)
from nightshift.domain.ids import new_id
from nightshift.domain.vocabulary import InvestigationStatus
from nightshift.store.tables import (
    AlertGroupMemberRow,
    AlertGroupRow,
    AlertRow,
    InvestigationRow,
    as_utc,
)

PENDING, STARTING, STARTED = "pending", "starting", "started"
# A claim older than this whose submission never finished (the process died
# between commit and submit) may be retried by the next notification.
STALE_CLAIM = timedelta(seconds=30)
TERMINAL = [s.value for s in InvestigationStatus if s.terminal]


@dataclass
class Grouping:
    """What one notification did to the groups, collected for after the commit."""

    touched: dict[str, AlertGroupRow] = field(default_factory=dict)
    joined: int = 0
    new_groups: int = 0


class Grouper:
    def __init__(self, s: Session, now: datetime) -> None:
        self.s = s
        self.now = now
        self._open: dict[tuple[str, str], AlertGroupRow | None] = {}
        self._members: dict[tuple[str, str, str, int], AlertGroupRow] = {}

    def preload(self, alert_ids: Sequence[str]) -> None:
        """The groups these alerts already belong to (one query for the batch)."""
        if not alert_ids:
            return
        q = (
            select(AlertGroupMemberRow, AlertGroupRow)
            .join(AlertGroupRow, AlertGroupRow.id == AlertGroupMemberRow.group_id)
            .where(AlertGroupMemberRow.alert_id.in_(alert_ids))
        )
        for member, group in self.s.execute(q).all():
            self._members[(member.alert_id, group.rule, group.group_key, member.occurrence)] = group

    def route(
        self, alert: AlertRow, rule: RouteRule, sender_key: str | None, out: Grouping
    ) -> None:
        key = group_key_for(rule, alert.labels, sender_key)
        known = self._members.get((alert.id, rule.name, key, alert.occurrence))
        if known is not None:  # a repeat: the stored alert was updated, nothing joins
            known.last_alert_at = self.now
            out.touched[known.id] = known
            return
        group = self._absorbing(rule, key)
        if group is None:
            if alert.status != AlertStatus.FIRING.value:
                return  # a resolved alert starts nothing; it is stored only
            group = AlertGroupRow(
                id=new_id(),
                rule=rule.name,
                group_key=key,
                state=PENDING,
                reason="not started yet",
                created_at=self.now,
                last_alert_at=self.now,
            )
            self.s.add(group)
            self.s.flush()  # no ORM relationship orders the member insert after it
            self._open[(rule.name, key)] = group
            out.new_groups += 1
        self.s.add(AlertGroupMemberRow(group_id=group.id, alert_id=alert.id,
                                       occurrence=alert.occurrence, added_at=self.now))  # fmt: skip
        self._members[(alert.id, rule.name, key, alert.occurrence)] = group
        group.last_alert_at = self.now
        if group.investigation_id and alert.investigation_id is None:
            alert.investigation_id = group.investigation_id
        out.touched[group.id] = group
        out.joined += 1

    def _absorbing(self, rule: RouteRule, key: str) -> AlertGroupRow | None:
        """The group a new alert of (rule, key) joins: the newest one, while its
        investigation has not ended (or not started), and for the rule's window
        after its last alert even once it has ended, so that a quick diagnosis
        followed by more alerts of the same incident does not start another."""
        if (rule.name, key) in self._open:
            return self._open[(rule.name, key)]
        q = (
            select(AlertGroupRow, InvestigationRow.status)
            .outerjoin(InvestigationRow, InvestigationRow.id == AlertGroupRow.investigation_id)
            .where(AlertGroupRow.rule == rule.name, AlertGroupRow.group_key == key)
            .order_by(AlertGroupRow.created_at.desc())
            .limit(1)
        )
        found = self.s.execute(q).first()
        group: AlertGroupRow | None = None
        if found is not None:
            newest, status = found
            ended = status is not None and status in TERMINAL
            recent = within_window(
                as_utc(newest.last_alert_at), self.now, rule.group_window_seconds
            )
            group = newest if (not ended or recent) else None
        self._open[(rule.name, key)] = group
        return group


def claim(
    s: Session,
    groups: Sequence[AlertGroupRow],
    rules: Mapping[str, RouteRule],
    global_limit: int,
    blocked: Mapping[str, str | None],
    now: datetime,
) -> tuple[list[AlertGroupRow], list[AlertGroupRow]]:
    """Claim the groups that may start now; returns (claimed, held back by the storm limit).

    ``blocked`` maps agent names to a kill-switch refusal. Held groups stay
    pending, with the reason, and start on a later notification.
    """
    since = now - timedelta(minutes=1)
    recent = (
        select(func.count())
        .select_from(AlertGroupRow)
        .where(AlertGroupRow.claimed_at >= since, AlertGroupRow.state.in_([STARTING, STARTED]))
    )
    started_global = s.scalar(recent) or 0
    per_rule: dict[str, int] = {}
    claimed: list[AlertGroupRow] = []
    stormed: list[AlertGroupRow] = []
    for group in sorted(groups, key=lambda g: (as_utc(g.created_at), g.id)):
        if group.investigation_id is not None or not _claimable(group, now):
            continue
        rule = rules.get(group.rule)
        if rule is None:
            continue
        refusal = blocked.get(rule.agent)
        if refusal:
            group.reason = f"not started: {refusal}"
            continue
        if rule.name not in per_rule:
            per_rule[rule.name] = s.scalar(recent.where(AlertGroupRow.rule == rule.name)) or 0
        limits = StormLimits(global_limit, rule.max_per_minute)
        storm = storm_refusal(limits, started_global, per_rule[rule.name])
        if storm:
            group.state, group.reason = PENDING, f"not started: {storm}"
            stormed.append(group)
            continue
        group.state, group.claimed_at, group.reason = STARTING, now, ""
        started_global += 1
        per_rule[rule.name] += 1
        claimed.append(group)
    return claimed, stormed


def _claimable(group: AlertGroupRow, now: datetime) -> bool:
    if group.state == PENDING:
        return True
    stale = group.claimed_at is not None and now - as_utc(group.claimed_at) > STALE_CLAIM
    return group.state == STARTING and stale
