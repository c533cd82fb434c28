"""Alerts and routing rules: the pure parts of alert intake.

An alert is identified by its fingerprint (Alertmanager's, or one derived from
its labels). A routing rule selects alerts by matchers and names the agent,
tier and priority of the investigation they start; alerts of one rule and
group key form a group, and one group starts at most one investigation.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

from nightshift.domain.alert_matchers import Matcher, matches_all, parse_all
from nightshift.domain.vocabulary import Tier


class AlertStatus(StrEnum):
    FIRING = "firing"
    RESOLVED = "resolved"


@dataclass(frozen=True, slots=True)
class IncomingAlert:
    """One alert as a sender reported it (already validated)."""

    fingerprint: str
    status: AlertStatus
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    starts_at: datetime
    ends_at: datetime | None
    generator_url: str = ""


@dataclass(frozen=True, slots=True)
class Notification:
    """One delivery: a batch of alerts, with Alertmanager's group key when it sent one."""

    alerts: Sequence[IncomingAlert]
    group_key: str | None = None
    receiver: str = ""
    source: str = "generic"


@dataclass(frozen=True, slots=True)
class RouteRule:
    name: str
    matchers: tuple[str, ...]
    agent: str
    tier: Tier = Tier.SINGLE_DOMAIN
    priority: int = 2
    group_by: tuple[str, ...] = ()
    group_window_seconds: int = 300
    max_per_minute: int = 0  # 0: only the global limit applies
    enabled: bool = True
    # Investigate in a simulated-world scenario (demos, tests) instead of the
    # deployment's declared evidence sources.
    scenario: str | None = None
    parsed: tuple[Matcher, ...] = field(default=(), compare=False, repr=False)

    @staticmethod
    def build(**fields: object) -> RouteRule:
        """A rule with its matchers parsed (raises MatcherError on bad syntax)."""
        rule = RouteRule(**fields)  # type: ignore[arg-type]
        return replace(rule, parsed=parse_all(rule.matchers))

    def selects(self, labels: Mapping[str, str]) -> bool:
        return self.enabled and matches_all(self.parsed, labels)


def fingerprint_of(labels: Mapping[str, str]) -> str:
    """A stable fingerprint for alerts whose sender gave none: the label set's hash."""
    canonical = json.dumps(sorted(labels.items()), separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def group_key_for(rule: RouteRule, labels: Mapping[str, str], sender_key: str | None) -> str:
    """Alertmanager's group key when it sent one, else the rule's group_by label values.

    Keys are scoped to the rule by the caller (groups are looked up by rule and
    key), so the same Alertmanager group routed by two rules forms two groups.
    """
    if sender_key:
        return f"am:{sender_key}"[:512]
    values = {name: labels.get(name, "") for name in rule.group_by}
    return "labels:" + json.dumps(values, sort_keys=True, separators=(",", ":"))[:500]


def within_window(last_alert_at: datetime, now: datetime, window_seconds: int) -> bool:
    """Whether a group heard from an alert within the last ``window`` seconds."""
    return now - last_alert_at <= timedelta(seconds=window_seconds)


def common_labels(label_sets: Sequence[Mapping[str, str]]) -> dict[str, str]:
    """The labels every alert shares with the same value (Alertmanager's commonLabels)."""
    if not label_sets:
        return {}
    first, *rest = label_sets
    return {k: v for k, v in first.items() if all(other.get(k) == v for other in rest)}


def title_for(labels: Mapping[str, str], annotations: Mapping[str, str], count: int) -> str:
    """``alertname: summary`` (or description), noting how many alerts the group holds."""
    name = labels.get("alertname", "alert")
    text = annotations.get("summary") or annotations.get("description") or ""
    title = f"{name}: {' '.join(text.split())}" if text else name
    if count > 1:
        title += f" (+{count - 1} more alerts)"
    return title[:512]


@dataclass(frozen=True, slots=True)
class StormLimits:
    global_per_minute: int
    rule_per_minute: int  # 0: no per-rule limit


def storm_refusal(limits: StormLimits, started_global: int, started_rule: int) -> str | None:
    """Why another investigation may not start from alerts this minute, or None."""
    if started_global >= limits.global_per_minute:
        return (
            f"alert storm: {started_global} investigations started from alerts in the last "
            f"minute (global limit {limits.global_per_minute})"
        )
    if limits.rule_per_minute and started_rule >= limits.rule_per_minute:
        return (
            f"alert storm: {started_rule} investigations started by this rule in the last "
            f"minute (rule limit {limits.rule_per_minute})"
        )
    return None
