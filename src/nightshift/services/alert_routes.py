"""Alert routing rules: stored, validated (matcher syntax, agent, limits), listed."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from nightshift.domain.alert_matchers import MatcherError, parse_all
from nightshift.domain.alerts import RouteRule
from nightshift.domain.ids import new_id
from nightshift.domain.investigations import MAX_PRIORITY
from nightshift.domain.vocabulary import Tier
from nightshift.services.errors import Conflict, Invalid, NotFound
from nightshift.store.database import Database
from nightshift.store.tables import AgentRow, AlertRouteRow

_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_LABEL = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
MAX_MATCHERS = 32
MAX_WINDOW_SECONDS = 7 * 86400


@dataclass(frozen=True, slots=True)
class RouteView:
    rule: RouteRule
    created_at: datetime
    updated_at: datetime


def _rule(row: AlertRouteRow) -> RouteRule:
    return RouteRule.build(
        name=row.name,
        matchers=tuple(row.matchers),
        agent=row.agent,
        tier=Tier(row.tier),
        priority=row.priority,
        group_by=tuple(row.group_by),
        group_window_seconds=row.group_window_seconds,
        max_per_minute=row.max_per_minute,
        enabled=row.enabled,
        scenario=row.scenario,
    )


def validate(rule: RouteRule) -> RouteRule:
    """The rule with its matchers parsed; Invalid with a clear message otherwise."""
    if not _NAME.match(rule.name):
        raise Invalid("rule name: 1-63 lowercase letters, digits or '-', not starting with '-'")
    if len(rule.matchers) > MAX_MATCHERS:
        raise Invalid(f"at most {MAX_MATCHERS} matcher expressions per rule")
    try:
        parsed = parse_all(rule.matchers)
    except MatcherError as exc:
        raise Invalid(f"matchers: {exc}") from exc
    bad = [g for g in rule.group_by if not _LABEL.match(g)]
    if bad:
        raise Invalid(f"group_by: not label names: {', '.join(bad)}")
    if not 0 <= rule.priority <= MAX_PRIORITY:
        raise Invalid(f"priority must be 0..{MAX_PRIORITY}")
    if not 1 <= rule.group_window_seconds <= MAX_WINDOW_SECONDS:
        raise Invalid(f"group_window_seconds must be 1..{MAX_WINDOW_SECONDS}")
    if rule.max_per_minute < 0:
        raise Invalid("max_per_minute must be >= 0 (0: only the global limit)")
    return replace(rule, parsed=parsed)


class AlertRouteService:
    def __init__(self, db: Database) -> None:
        self._db = db

    def create(self, rule: RouteRule) -> RouteView:
        rule = validate(rule)
        with self._db.transaction() as s:
            self._require_agent(s, rule.agent)
            if s.scalar(select(AlertRouteRow.id).where(AlertRouteRow.name == rule.name)):
                raise Conflict(f"alert route {rule.name!r} already exists")
            row = AlertRouteRow(id=new_id())
            _fill(row, rule)
            s.add(row)
            s.flush()
            return RouteView(_rule(row), row.created_at, row.updated_at)

    def replace(self, name: str, rule: RouteRule) -> RouteView:
        if rule.name != name:
            raise Invalid("a rule's name cannot change; delete it and create another")
        rule = validate(rule)
        with self._db.transaction() as s:
            self._require_agent(s, rule.agent)
            row = self._row(s, name)
            _fill(row, rule)
            s.flush()
            return RouteView(_rule(row), row.created_at, row.updated_at)

    def delete(self, name: str) -> None:
        with self._db.transaction() as s:
            s.delete(self._row(s, name))

    def get(self, name: str) -> RouteView:
        with self._db.read() as s:
            row = self._row(s, name)
            return RouteView(_rule(row), row.created_at, row.updated_at)

    def all(self) -> list[RouteView]:
        with self._db.read() as s:
            rows = s.scalars(select(AlertRouteRow).order_by(AlertRouteRow.name))
            return [RouteView(_rule(r), r.created_at, r.updated_at) for r in rows]

    def active_rules(self) -> list[RouteRule]:
        """Enabled rules in name order: every rule that matches an alert routes it."""
        return [v.rule for v in self.all() if v.rule.enabled]

    @staticmethod
    def _row(s: Session, name: str) -> AlertRouteRow:
        row = s.scalar(select(AlertRouteRow).where(AlertRouteRow.name == name))
        if row is None:
            raise NotFound(f"no alert route named {name!r}")
        return row

    @staticmethod
    def _require_agent(s: Session, agent: str) -> None:
        if s.scalar(select(AgentRow.id).where(AgentRow.name == agent)) is None:
            raise Invalid(f"no agent named {agent!r}; register it first")


def _fill(row: AlertRouteRow, rule: RouteRule) -> None:
    row.name = rule.name
    row.matchers = list(rule.matchers)
    row.agent = rule.agent
    row.tier = rule.tier.value
    row.priority = rule.priority
    row.group_by = list(rule.group_by)
    row.group_window_seconds = rule.group_window_seconds
    row.max_per_minute = rule.max_per_minute
    row.enabled = rule.enabled
    row.scenario = rule.scenario
