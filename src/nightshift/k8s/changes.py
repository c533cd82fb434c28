"""``recent_changes`` from the cluster itself, newest first.

Three kinds of record, all within ``since_minutes`` and the agent's namespaces:
workload revisions (what each rollout changed, its change-cause, who wrote
it), writes recorded in ``managedFields`` of ConfigMaps, NetworkPolicies,
Services, Ingresses, Roles and RoleBindings (manager, operation, time, fields),
and, in a separate section, recent Warning events (symptoms, not changes).
The table has the simulated world's columns, so the offline reasoner reads a
real cluster and a scenario alike; TARGET is ``namespace/Kind/name``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from nightshift.agent.tools.protocol import ToolResult, ToolStatus
from nightshift.k8s.changes_text import Record, render
from nightshift.k8s.client import KubeError
from nightshift.k8s.managed import Touch, touch_id, touches
from nightshift.k8s.reads import (
    Lister,
    Obj,
    Scopes,
    change_id,
    event_time,
    meta,
    parse_time,
    rfc3339,
)
from nightshift.k8s.revisions import (
    Revision,
    controller_revisions,
    replicaset_revisions,
    template_diff,
)

DEFAULT_MINUTES = 1440
MAX_WARNINGS = 30
PARALLEL_READS = 4
MAX_SUMMARY = 300
MAX_CHANGES = 60  # newest first; the rest is counted, so the answer fits a prompt
_SAME_WRITE = timedelta(seconds=5)  # a manager's write and the revision it caused
_SAME_SECOND = timedelta(seconds=1)
PREFIX_CREATED = "NEW"
# The API server writes its own bootstrap objects (kube-system ConfigMaps, the
# default/kubernetes Service): bookkeeping, never anyone's change.
_BOOKKEEPERS = frozenset({"kube-apiserver"})
_SKIP = frozenset({("ConfigMap", "kube-root-ca.crt")})  # published by the control plane itself

# (apiVersion, plural, Kind, change kind, domain)
OBJECTS: tuple[tuple[str, str, str, str, str], ...] = (
    ("v1", "configmaps", "ConfigMap", "config", "application"),
    ("networking.k8s.io/v1", "networkpolicies", "NetworkPolicy", "network-policy", "network"),
    ("v1", "services", "Service", "config", "network"),
    ("networking.k8s.io/v1", "ingresses", "Ingress", "config", "network"),
    ("rbac.authorization.k8s.io/v1", "roles", "Role", "rbac", "security"),
    ("rbac.authorization.k8s.io/v1", "rolebindings", "RoleBinding", "rbac", "security"),
)
WORKLOADS: tuple[tuple[str, str], ...] = (
    ("deployments", "Deployment"),
    ("statefulsets", "StatefulSet"),
    ("daemonsets", "DaemonSet"),
)


def recent_changes(
    lister: Lister, scopes: Scopes, params: Mapping[str, Any], now: datetime
) -> ToolResult:
    minutes = int(params.get("since_minutes") or DEFAULT_MINUTES)
    since = now - timedelta(minutes=minutes)
    domain = str(params.get("domain") or "")
    unreadable: list[str] = []
    reads: list[tuple[str, Callable[[], list[Any]]]] = []
    for ns in scopes(None):
        reads.append(("workloads", partial(_rollouts, lister, ns, since)))
        for entry in OBJECTS:
            reads.append((entry[1], partial(_object_writes, lister, entry, ns, since)))
        reads.append(("events", partial(_warnings, lister, ns, since)))
    # The lists are independent: a few at a time, so one answer costs about the
    # slowest list rather than the sum (the API server sees at most PARALLEL_READS).
    with ThreadPoolExecutor(max_workers=PARALLEL_READS) as pool:
        results = list(pool.map(lambda r: _guarded(unreadable, r[0], r[1]), reads))
    records: list[Record] = []
    warnings: list[Obj] = []
    for (what, _), found in zip(reads, results, strict=True):
        if what == "events":
            warnings += found
        else:
            records += found
    if domain:
        records = [r for r in records if r.domain == domain]
        warnings = warnings if domain == "kubernetes" else []
    records.sort(key=lambda r: (r.at, r.id), reverse=True)
    warnings.sort(key=lambda e: event_time(e) or since, reverse=True)
    notes = (
        ("\n(not readable here: " + ", ".join(sorted(set(unreadable))) + ")") if unreadable else ""
    )
    if not records and not warnings:
        why = f"no changes recorded in the last {minutes} minutes in the cluster"
        return ToolResult(ToolStatus.NO_DATA, why + notes + lister.note())
    hidden = max(0, len(records) - MAX_CHANGES)
    text = render(records[:MAX_CHANGES], warnings[:MAX_WARNINGS], now, hidden)
    text += notes + lister.note()
    data = {
        "changes": [{**asdict(r), "at": rfc3339(r.at)} for r in records[:MAX_CHANGES]],
        "not_shown": hidden,
        "warning_events": len(warnings),
    }
    return ToolResult(ToolStatus.OK, text, data)


def _guarded(unreadable: list[str], what: str, read: Any) -> list[Any]:
    """One kind the identity may not read (403) or the cluster does not serve (404)
    leaves a note instead of failing every other record."""
    try:
        found: list[Any] = read()
    except KubeError as exc:
        if exc.status not in (403, 404):
            raise
        unreadable.append(f"{what} ({exc.status} {exc.reason})")
        return []
    return found


def _warnings(lister: Lister, ns: str | None, since: datetime) -> list[Obj]:
    events = lister.items("v1", "events", ns, {"fieldSelector": "type=Warning"})
    return [e for e in events if (event_time(e) or since) > since]


# -- workloads ------------------------------------------------------------------------


def _rollouts(lister: Lister, ns: str | None, since: datetime) -> list[Record]:
    out: list[Record] = []
    replicasets: list[Obj] | None = None
    revisions: list[Obj] | None = None
    for plural, kind in WORKLOADS:
        for workload in lister.items("apps/v1", plural, ns):
            if kind == "Deployment":
                if replicasets is None:
                    replicasets = lister.items("apps/v1", "replicasets", ns)
                history = replicaset_revisions(workload, replicasets)
            else:
                if revisions is None:
                    revisions = lister.items("apps/v1", "controllerrevisions", ns)
                history = controller_revisions(workload, revisions)
            out += _workload_records(kind, workload, history, since)
    return out


def _workload_records(
    kind: str, workload: Obj, history: list[Revision], since: datetime
) -> list[Record]:
    m = meta(workload)
    target = f"{m.get('namespace', '')}/{kind}/{m.get('name', '')}"
    writes = touches(workload)
    out, explained = [], set()
    for i, rev in enumerate(history):
        if rev.created < since:
            continue
        writer = _writer_of(writes, rev.created)
        if writer is not None:
            explained.add(writer)
        changed = template_diff(history[i - 1].template if i else None, rev.template)
        lead = f"revision {rev.number}" + (" (first)" if i == 0 else "")
        if rev is history[-1]:
            lead += _progress(workload)
        cause = f"; change-cause: {rev.change_cause}" if rev.change_cause else ""
        summary = _bounded(f"{lead}: {'; '.join(changed)}{cause}")
        ident = change_id("ROLLOUT", target, str(rev.number), rev.created.isoformat())
        actor = writer.manager if writer else "-"
        out.append(Record(rev.created, ident, "application", "rollout", target, actor, summary))
    for touch in writes:
        if touch.at < since or touch in explained:
            continue
        scaling = touch.subresource == "scale" or touch.fields == ("spec.replicas",)
        change = "scaling" if scaling else "update"
        out.append(_touch_record(kind, workload, touch, change, "application"))
    return out


def _bounded(text: str, limit: int = MAX_SUMMARY) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _writer_of(writes: list[Touch], created: datetime) -> Touch | None:
    """The manager whose latest write coincides with a revision's creation."""
    near = [t for t in writes if abs(t.at - created) <= _SAME_WRITE and t.subresource != "scale"]
    return min(near, key=lambda t: abs(t.at - created)) if near else None


def _progress(workload: Obj) -> str:
    for cond in (workload.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "Progressing" and cond.get("reason"):
            return f" (current, {cond['reason']})"
    return " (current)"


# -- objects without revisions ------------------------------------------------------------


def _object_writes(
    lister: Lister, entry: tuple[str, str, str, str, str], ns: str | None, since: datetime
) -> list[Record]:
    api_version, plural, kind, change, domain = entry
    return _writes(lister.items(api_version, plural, ns), kind, change, domain, since)


def _writes(items: list[Obj], kind: str, change: str, domain: str, since: datetime) -> list[Record]:
    out: list[Record] = []
    for obj in items:
        m = meta(obj)
        if (kind, m.get("name")) in _SKIP:
            continue
        created = parse_time(m.get("creationTimestamp"))
        writes = touches(obj)
        creator = None
        if created is not None and created >= since:
            # The create request stamps creationTimestamp and its manager's time together
            # (to the second); a later write by another manager is an update, however soon.
            at_create = [t for t in writes if abs(t.at - created) <= _SAME_SECOND]
            creator = min(at_create, key=lambda t: t.at) if at_create else None
            target = f"{m.get('namespace', '')}/{kind}/{m.get('name', '')}"
            ident = change_id(PREFIX_CREATED, target, created.isoformat())
            actor = creator.manager if creator else "-"
            owned = f" (fields: {', '.join(creator.fields)})" if creator and creator.fields else ""
            summary = f"created {kind}/{m.get('name')}{owned}"
            if actor not in _BOOKKEEPERS:
                out.append(Record(created, ident, domain, change, target, actor, summary))
        for touch in writes:
            if touch.at >= since and touch is not creator and touch.manager not in _BOOKKEEPERS:
                out.append(_touch_record(kind, obj, touch, change, domain))
    return out


def _touch_record(kind: str, obj: Obj, touch: Touch, change: str, domain: str) -> Record:
    m = meta(obj)
    target = f"{m.get('namespace', '')}/{kind}/{m.get('name', '')}"
    fields = ", ".join(touch.fields) or "metadata only"
    how = touch.operation.lower() or "write"
    sub = f" /{touch.subresource}" if touch.subresource else ""
    summary = f"{how}{sub} by {touch.manager} (fields it owns: {fields})"
    return Record(
        touch.at, touch_id(kind, obj, touch), domain, change, target, touch.manager, summary
    )
