"""Alerts, change log, metrics, aggregated logs and security events as text."""

from __future__ import annotations

import re
from datetime import datetime

from nightshift.k8s.kubectl_time import human_duration
from nightshift.scenarios.clock import at, rfc3339
from nightshift.scenarios.cluster import pod_labels, statuses
from nightshift.scenarios.model import Change, MetricSeries, SecurityEvent, WorldState
from nightshift.scenarios.promql import format_value, series_label, value_at
from nightshift.scenarios.tabular import table

MAX_LOG_HITS = 200


def render_changes(changes: list[Change], now: datetime) -> str:
    ordered = sorted(changes, key=lambda c: (-c.at, c.id))
    rows = [
        [
            rfc3339(at(now, c.at)),
            human_duration(c.at),
            c.id,
            c.domain.value,
            c.kind,
            c.target,
            c.actor,
            c.summary,
        ]
        for c in ordered
    ]
    text = table(["TIME", "AGE", "ID", "DOMAIN", "KIND", "TARGET", "ACTOR", "SUMMARY"], rows)
    details = [f"{c.id}: {c.details.strip()}" for c in ordered if c.details.strip()]
    if details:
        text += "\n\nDetails:\n" + "\n".join("  " + d.replace("\n", "\n    ") for d in details)
    return text


def render_series(query: str, series: list[MetricSeries], range_minutes: int) -> str:
    points = 7
    offsets = [round(range_minutes * 60 * (points - 1 - i) / (points - 1)) for i in range(points)]
    headers = ["SERIES", *[f"-{human_duration(o)}" if o else "now" for o in offsets]]
    rows = [[series_label(s), *[format_value(value_at(s, o)) for o in offsets]] for s in series]
    unit = {s.unit for s in series if s.unit}
    head = f"query: {query}\nrange: {range_minutes}m, {len(series)} series"
    if unit:
        head += f", unit: {', '.join(sorted(unit))}"
    return head + "\n" + table(headers, rows)


def _compile(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error:
        return re.compile(re.escape(pattern), re.IGNORECASE)


def _app_matches(app: str | None, labels: dict[str, str], pod_name: str) -> bool:
    if not app:
        return True
    names = {labels.get("app"), labels.get("app.kubernetes.io/name"), labels.get("component")}
    return app in names or pod_name.startswith(app + "-")


def search_logs(
    state: WorldState, pattern: str, namespace: str | None, app: str | None
) -> tuple[list[str], int]:
    """(matching lines in Loki's stream-labelled style, total matches)."""
    regex = _compile(pattern)
    hits: list[str] = []
    total = 0
    workloads = {(w.namespace, f"{w.kind.lower()}/{w.name}"): w for w in state.deployments}
    for pod in state.pods:
        if namespace and pod.namespace != namespace:
            continue
        if not _app_matches(app, pod_labels(state, pod), pod.name):
            continue
        for st in statuses(state, pod):
            text = st.logs
            owner = workloads.get((pod.namespace, pod.owner or ""))
            if not text and not pod.containers and owner is not None:
                text = owner.logs
            for line in text.splitlines():
                if regex.search(line):
                    total += 1
                    hits.append(
                        f'{{namespace="{pod.namespace}", pod="{pod.name}", '
                        f'container="{st.name}"}} {line}'
                    )
    for stream in state.log_streams:
        if namespace and stream.namespace not in (None, namespace):
            continue
        if app and stream.app != app and stream.source != app:
            continue
        for line in stream.lines.splitlines():
            if regex.search(line):
                total += 1
                hits.append(f'{{source="{stream.source}"}} {line}')
    return hits[:MAX_LOG_HITS], total


def render_security(events: list[SecurityEvent], now: datetime) -> str:
    ordered = sorted(events, key=lambda e: -e.at)
    rows = [
        [
            rfc3339(at(now, e.at)),
            e.source,
            e.type,
            e.principal,
            e.target,
            e.outcome,
            str(e.count),
            e.message,
        ]
        for e in ordered
    ]
    return table(
        ["TIME", "SOURCE", "TYPE", "PRINCIPAL", "TARGET", "OUTCOME", "COUNT", "MESSAGE"], rows
    )
