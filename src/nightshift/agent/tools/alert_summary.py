"""Firing alerts summarized, not listed: a storm of any size fits one answer.

Alerts are folded one at a time into groups keyed by (alertname, severity,
target); a group keeps its count, its first and last start time, its domain
and the newest alert's description, so memory grows with the groups, never
with the alerts. The answer lists groups newest first, as many as fit in the
character budget; the groups that do not fit are rolled up by alert name and
severity, and whatever still does not fit is one closing line of counts. Every
alert is counted somewhere: the answer never drops one silently.

The row shape follows the simulated world's ``list_alerts`` (start time first,
so the reasoner takes it for the onset; then severity, domain, alert name,
``namespace/name`` target and description), with LAST SEEN and COUNT added.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from nightshift.agent.tools.columns import table

SEVERITIES = ("critical", "warning", "info")
HEADERS = (
    "FIRST SEEN", "LAST SEEN", "AGE", "COUNT", "SEVERITY", "DOMAIN", "ALERTNAME", "TARGET",
    "SUMMARY",
)  # fmt: skip
ROLLUP_HEADERS = (
    "FIRST SEEN", "LAST SEEN", "ALERTS", "TARGETS", "SEVERITY", "ALERTNAME", "NEWEST", "SUMMARY",
)  # fmt: skip


@dataclass(slots=True)
class Group:
    name: str
    severity: str
    target: str
    domain: str
    summary: str
    first: float
    last: float
    count: int = 0


@dataclass(slots=True)
class Rollup:
    name: str
    severity: str
    first: float
    last: float
    newest_target: str
    summary: str  # the newest alert's words: a root cause must not lose them in a storm
    alerts: int = 0
    targets: int = 0


@dataclass
class AlertFold:
    """Everything the summary needs, built alert by alert."""

    groups: dict[tuple[str, str, str], Group] = field(default_factory=dict)
    severities: Counter[str] = field(default_factory=Counter)
    total: int = 0

    def add(
        self, name: str, severity: str, target: str, domain: str, summary: str, starts: float
    ) -> None:
        self.total += 1
        self.severities[severity] += 1
        key = (name, severity, target)
        group = self.groups.get(key)
        if group is None:
            group = self.groups[key] = Group(
                name, severity, target, domain, summary, starts, starts
            )
        group.count += 1
        group.first = min(group.first, starts)
        if starts >= group.last:
            group.last = starts
            group.summary = summary or group.summary


def rfc3339(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def age(seconds: float) -> str:
    s = max(0, int(seconds))
    if s < 120:
        return f"{s}s"
    if s < 3 * 3600:
        return f"{s // 60}m"
    if s < 48 * 3600:
        return f"{s // 3600}h{(s % 3600) // 60}m" if s < 8 * 3600 else f"{s // 3600}h"
    return f"{s // 86400}d"


def _rows(groups: Sequence[Group], now: float) -> list[list[str]]:
    return [
        [
            rfc3339(g.first),
            rfc3339(g.last),
            age(now - g.first),
            str(g.count),
            g.severity,
            g.domain,
            g.name,
            g.target,
            g.summary,
        ]
        for g in groups
    ]


def _rollups(groups: Sequence[Group]) -> list[Rollup]:
    out: dict[tuple[str, str], Rollup] = {}
    for g in groups:
        r = out.get((g.name, g.severity))
        if r is None:
            r = Rollup(g.name, g.severity, g.first, g.last, g.target, g.summary)
            out[(g.name, g.severity)] = r
        r.alerts += g.count
        r.targets += 1
        r.first = min(r.first, g.first)
        if g.last > r.last:
            r.last, r.newest_target, r.summary = g.last, g.target, g.summary or r.summary
    return sorted(out.values(), key=lambda r: (-r.last, -r.alerts, r.name))


def _rollup_rows(rollups: Sequence[Rollup]) -> list[list[str]]:
    return [
        [
            rfc3339(r.first),
            rfc3339(r.last),
            str(r.alerts),
            str(r.targets),
            r.severity,
            r.name,
            r.newest_target,
            r.summary,
        ]
        for r in rollups
    ]


def _fit(count: int, fits: Callable[[int], bool]) -> int:
    """The largest n <= count with fits(n) (fits is monotone: fewer rows always fit)."""
    lo, hi = 0, count
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if fits(mid):
            lo = mid
        else:
            hi = mid - 1
    return lo


def headline(fold: AlertFold, complete: bool) -> str:
    counts = ", ".join(f"{s}: {fold.severities.get(s, 0)}" for s in SEVERITIES)
    others = sorted(s for s in fold.severities if s not in SEVERITIES)
    if others:
        counts += ", " + ", ".join(f"{s or 'none'}: {fold.severities[s]}" for s in others)
    amount = f"{fold.total} alerts" if complete else f"at least {fold.total} alerts"
    return (
        f"{amount} firing ({counts}) in {len(fold.groups)} groups by alertname, severity "
        "and target; newest first"
    )


def render(fold: AlertFold, now: float, budget: int, complete: bool = True) -> str:
    """The summary in at most ``budget`` characters (when the budget allows a headline).

    When every group fits, one row per group. Otherwise the alert names come
    first (every alert counted there, a closing line for names that do not
    fit), then as many of the newest groups as the rest of the budget holds."""
    head = headline(fold, complete)
    groups = sorted(fold.groups.values(), key=lambda g: (-g.last, -g.count, g.name, g.target))
    room = budget - len(head) - 1

    def detail(n: int) -> str:
        return table(HEADERS, _rows(groups[:n], now))

    # Past this many rows a table cannot fit, whatever its cells hold.
    if len(groups) <= room // 40 and len(detail(len(groups))) <= room:
        return head + "\n" + detail(len(groups))
    rollups = _rollups(groups)
    names_intro = f"By alert name and severity (all {fold.total} alerts):"
    names_room = room * 2 // 5 - len(names_intro) - 1

    def names(n: int) -> str:
        return table(ROLLUP_HEADERS, _rollup_rows(rollups[:n]))

    def names_fit(n: int) -> bool:
        return len(names(n)) + (0 if n == len(rollups) else 120) <= names_room

    listed = _fit(min(len(rollups), max(0, names_room // 30)), names_fit)
    text = head + "\n" + names_intro + "\n" + names(listed)
    unlisted = rollups[listed:]
    if unlisted:
        alerts = sum(r.alerts for r in unlisted)
        targets = sum(r.targets for r in unlisted)
        text += (
            f"\n... and {len(unlisted)} more alert names ({targets} groups, {alerts} alerts); "
            "filter by severity or domain to see them"
        )
    closing = 160
    detail_intro = "Newest groups (alert name, severity, target):"
    left = budget - len(text) - len(detail_intro) - 2 - closing
    shown = _fit(min(len(groups), max(0, left // 40)), lambda n: len(detail(n)) <= left)
    if shown:
        text += "\n" + detail_intro + "\n" + detail(shown)
    rest = groups[shown:]
    if rest:
        text += (
            f"\n... and {len(rest)} older groups ({sum(g.count for g in rest)} alerts) not "
            "shown row by row; every one is counted by alert name above"
        )
    return text
