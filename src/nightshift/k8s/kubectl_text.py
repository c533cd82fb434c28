"""kubectl's own text for lists: ``get`` (-o wide / --show-labels / -A), ``events``, ``-o yaml``,
``rollout history``.

Agents and recorded sessions speak kubectl; the simulated world, replays and
a real cluster all print API objects through these functions, checked against
golden files captured from kubectl 1.37 (tests/unit/k8s/golden).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import yaml

from nightshift.k8s.describe_writer import interval as event_interval
from nightshift.k8s.kubectl_columns import (
    endpoints_text,
    headers,
    labels_text,
    meta,
    node_status,
    row,
)
from nightshift.k8s.kubectl_time import parse_time, since
from nightshift.k8s.tabwriter import table, tabwrite

__all__ = [
    "as_yaml",
    "endpoints_text",
    "event_interval",
    "events_table",
    "get_events_table",
    "get_table",
    "node_status",
    "rollout_history",
    "table",
]

Obj = dict[str, Any]


def no_resources(namespace: str | None) -> str:
    if namespace:
        return f"No resources found in {namespace} namespace."
    return "No resources found"


def get_table(
    plural: str,
    items: Sequence[Obj],
    *,
    wide: bool,
    labels: bool,
    all_ns: bool,
    now: datetime | None = None,
    namespace: str | None = None,
    prefix: str = "",
) -> str:
    """``kubectl get PLURAL``; ``prefix`` (``pod/``) is what ``get all`` puts on names."""
    if not items:
        return no_resources(None if all_ns else namespace)
    if plural == "events":
        return get_events_table(items, all_ns=all_ns, now=now, wide=wide)
    head = headers(plural, wide=wide) + (["LABELS"] if labels else [])
    rows = []
    for o in items:
        cells = row(plural, o, now, wide=wide)
        cells[0] = prefix + cells[0]
        if labels:
            cells.append(labels_text(meta(o).get("labels")))
        rows.append(cells)
    if all_ns:
        head = ["NAMESPACE", *head]
        rows = [[str(meta(o).get("namespace", "")), *r] for o, r in zip(items, rows, strict=True)]
    return table([head, *rows])


def _event_when(e: Obj) -> datetime:
    series = e.get("series") or {}
    for value in (
        series.get("lastObservedTime"),
        e.get("lastTimestamp"),
        e.get("eventTime"),
        meta(e).get("creationTimestamp"),
    ):
        moment = parse_time(value)
        if moment is not None:
            return moment
    return datetime.min.replace(tzinfo=UTC)


def sorted_events(events: Sequence[Obj]) -> list[Obj]:
    return sorted(events, key=_event_when)


def events_table(
    events: Sequence[Obj],
    *,
    all_ns: bool,
    now: datetime | None = None,
    namespace: str | None = None,
) -> str:
    """``kubectl events``: oldest first, repeats folded into ``(xN over T)``."""
    if not events:
        if namespace and not all_ns:
            return f"No events found in {namespace} namespace."
        return "No events found."
    head = (["NAMESPACE"] if all_ns else []) + ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    rows = []
    for e in sorted_events(events):
        obj = e.get("involvedObject") or {}
        cells = [str(meta(e).get("namespace", ""))] if all_ns else []
        cells += [
            event_interval(e, now),
            str(e.get("type", "")),
            str(e.get("reason", "")),
            f"{obj.get('kind', '')}/{obj.get('name', '')}",
            str(e.get("message", "")).strip(),
        ]
        rows.append(cells)
    body = "".join("\t".join(r) + "\n" for r in [head, *rows])
    return tabwrite(body, minwidth=6, padding=3).rstrip("\n")


def get_events_table(
    events: Sequence[Obj], *, all_ns: bool, now: datetime | None = None, wide: bool = False
) -> str:
    """``kubectl get events``: the server's Event printer, in the order the server lists."""
    head = (["NAMESPACE"] if all_ns else []) + ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    rows = []
    for e in events:
        obj = e.get("involvedObject") or {}
        first = since(e.get("firstTimestamp") or e.get("eventTime"), now)
        last = since(e.get("lastTimestamp"), now) if e.get("lastTimestamp") else first
        if e.get("series"):
            last = since(e["series"].get("lastObservedTime"), now)
        kind = str(obj.get("kind", "")).lower()
        target = f"{kind}/{obj['name']}" if obj.get("name") else kind
        cells = [str(meta(e).get("namespace", ""))] if all_ns else []
        cells += [last, str(e.get("type", "")), str(e.get("reason", "")), target]
        cells.append(str(e.get("message", "")).strip())
        rows.append(cells)
    return table([head, *rows])


def as_yaml(obj: Obj) -> str:
    """``-o yaml``: keys sorted as Go's encoder sorts them, managedFields hidden."""

    def clean(o: Obj) -> Obj:
        return {**o, "metadata": {k: v for k, v in meta(o).items() if k != "managedFields"}}

    body = dict(obj)
    if "items" in body:
        body["items"] = [clean(i) for i in body["items"]]
    else:
        body = clean(body)
    return yaml.safe_dump(body, sort_keys=True, default_flow_style=False, width=10_000)


def rollout_history(kind: str, name: str, replicasets: Sequence[Obj]) -> str:
    revs = []
    for rs in replicasets:
        ann = meta(rs).get("annotations") or {}
        rev = ann.get("deployment.kubernetes.io/revision")
        if rev and str(rev).isdigit():
            revs.append((int(rev), ann.get("kubernetes.io/change-cause") or "<none>"))
    if not revs:
        return f"No rollout history found in {kind}/{name}"
    body = "REVISION\tCHANGE-CAUSE\n" + "".join(f"{r}\t{c}\n" for r, c in sorted(revs))
    return f"{kind}/{name}\n" + tabwrite(body, minwidth=0, padding=2).rstrip("\n")
