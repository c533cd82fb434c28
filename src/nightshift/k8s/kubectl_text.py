"""kubectl's own text formats (get -o wide / --show-labels, describe, events, rollout history).

Agents and recorded sessions speak kubectl; rendering live objects the same
way lets one reasoner read a simulated world, a replay and a real cluster.
Only the columns kubectl prints are produced, from plain JSON objects.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import yaml

Obj = dict[str, Any]


def age(timestamp: str | None, now: datetime | None = None) -> str:
    if not timestamp:
        return "<unknown>"
    then = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    secs = int(((now or datetime.now(UTC)) - then).total_seconds())
    if secs < 120:
        return f"{max(secs, 0)}s"
    if secs < 3 * 3600:
        return f"{secs // 60}m"
    if secs < 48 * 3600:
        return f"{secs // 3600}h"
    return f"{secs // 86400}d"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    lines = [
        "   ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
        for r in [list(headers), *rows]
    ]
    return "\n".join(lines)


def _meta(o: Obj) -> Obj:
    meta: Obj = o.get("metadata", {})
    return meta


def _labels(o: Obj) -> str:
    labels = _meta(o).get("labels") or {}
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items())) or "<none>"


def _pod_row(p: Obj) -> list[str]:
    statuses = p.get("status", {}).get("containerStatuses") or []
    ready = sum(1 for c in statuses if c.get("ready"))
    total = len(p.get("spec", {}).get("containers") or [])
    restarts = sum(int(c.get("restartCount", 0)) for c in statuses)
    reason = p.get("status", {}).get("phase", "Unknown")
    for c in statuses:
        waiting = (c.get("state") or {}).get("waiting")
        terminated = (c.get("state") or {}).get("terminated")
        if waiting and waiting.get("reason"):
            reason = waiting["reason"]
        elif terminated and terminated.get("reason"):
            reason = terminated["reason"]
    if _meta(p).get("deletionTimestamp"):
        reason = "Terminating"
    return [f"{ready}/{total}", reason, str(restarts)]


def _pod_wide(p: Obj) -> list[str]:
    st, spec = p.get("status", {}), p.get("spec", {})
    return [st.get("podIP") or "<none>", spec.get("nodeName") or "<none>", "<none>", "<none>"]


def _deploy_row(d: Obj) -> list[str]:
    st, spec = d.get("status", {}), d.get("spec", {})
    want = int(spec.get("replicas", 1))
    return [
        f"{st.get('readyReplicas', 0)}/{want}",
        str(st.get("updatedReplicas", 0)),
        str(st.get("availableReplicas", 0)),
    ]


def _deploy_wide(d: Obj) -> list[str]:
    containers = d.get("spec", {}).get("template", {}).get("spec", {}).get("containers") or []
    sel = d.get("spec", {}).get("selector", {}).get("matchLabels") or {}
    return [
        ",".join(c["name"] for c in containers),
        ",".join(c.get("image", "") for c in containers),
        ",".join(f"{k}={v}" for k, v in sorted(sel.items())) or "<none>",
    ]


def node_status(n: Obj) -> str:
    conds = {c["type"]: c["status"] for c in n.get("status", {}).get("conditions") or []}
    state = {"True": "Ready", "False": "NotReady"}.get(conds.get("Ready", ""), "Unknown")
    if n.get("spec", {}).get("unschedulable"):
        state += ",SchedulingDisabled"
    return state


def _node_row(n: Obj) -> list[str]:
    roles = [
        k.split("/", 1)[1]
        for k in _meta(n).get("labels") or {}
        if k.startswith("node-role.kubernetes.io/")
    ]
    info = n.get("status", {}).get("nodeInfo", {})
    return [node_status(n), ",".join(roles) or "<none>", "AGE", info.get("kubeletVersion", "")]


def _node_wide(n: Obj) -> list[str]:
    addrs = {a["type"]: a["address"] for a in n.get("status", {}).get("addresses") or []}
    info = n.get("status", {}).get("nodeInfo", {})
    return [
        addrs.get("InternalIP", "<none>"),
        addrs.get("ExternalIP", "<none>"),
        info.get("osImage", ""),
        info.get("kernelVersion", ""),
        info.get("containerRuntimeVersion", ""),
    ]


def _svc_row(s: Obj) -> list[str]:
    spec = s.get("spec", {})
    ports = ",".join(f"{p.get('port')}/{p.get('protocol', 'TCP')}" for p in spec.get("ports") or [])
    ext = ",".join(spec.get("externalIPs") or []) or "<none>"
    return [spec.get("type", "ClusterIP"), spec.get("clusterIP", "<none>"), ext, ports or "<none>"]


def _svc_wide(s: Obj) -> list[str]:
    sel = s.get("spec", {}).get("selector") or {}
    return [",".join(f"{k}={v}" for k, v in sorted(sel.items())) or "<none>"]


def endpoints_text(e: Obj) -> str:
    out = []
    for subset in e.get("subsets") or []:
        for addr in subset.get("addresses") or []:
            for port in subset.get("ports") or [{}]:
                out.append(f"{addr.get('ip')}:{port.get('port', '')}".rstrip(":"))
    return ",".join(out) or "<none>"


# kind -> (headers after NAME before AGE, row fn, wide headers, wide fn)
Columns = tuple[list[str], Callable[[Obj], list[str]], list[str], Callable[[Obj], list[str]]]
COLUMNS: dict[str, Columns] = {
    "pods": (
        ["READY", "STATUS", "RESTARTS"],
        _pod_row,
        ["IP", "NODE", "NOMINATED NODE", "READINESS GATES"],
        _pod_wide,
    ),
    "deployments": (
        ["READY", "UP-TO-DATE", "AVAILABLE"],
        _deploy_row,
        ["CONTAINERS", "IMAGES", "SELECTOR"],
        _deploy_wide,
    ),
    "services": (
        ["TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)"],
        _svc_row,
        ["SELECTOR"],
        _svc_wide,
    ),
    "endpoints": (["ENDPOINTS"], lambda e: [endpoints_text(e)], [], lambda e: []),
}


def get_table(plural: str, items: Sequence[Obj], *, wide: bool, labels: bool, all_ns: bool) -> str:
    if not items:
        return "No resources found."
    if plural == "nodes":
        headers = ["STATUS", "ROLES", "AGE", "VERSION"]
        extra = ["INTERNAL-IP", "EXTERNAL-IP", "OS-IMAGE", "KERNEL-VERSION", "CONTAINER-RUNTIME"]
        rows = []
        for n in items:
            row = _node_row(n)
            row[2] = age(_meta(n).get("creationTimestamp"))
            rows.append([_meta(n)["name"], *row, *(_node_wide(n) if wide else [])])
            if labels:
                rows[-1].append(_labels(n))
        head = ["NAME", *headers, *(extra if wide else []), *(["LABELS"] if labels else [])]
        return table(head, rows)
    cols, row_fn, wide_cols, wide_fn = COLUMNS.get(plural, ([], lambda o: [], [], lambda o: []))
    head = (["NAMESPACE"] if all_ns else []) + ["NAME", *cols, "AGE"]
    head += wide_cols if wide else []
    head += ["LABELS"] if labels else []
    rows = []
    for o in items:
        m = _meta(o)
        row = ([m.get("namespace", "")] if all_ns else []) + [m["name"], *row_fn(o)]
        row.append(age(m.get("creationTimestamp")))
        row += wide_fn(o) if wide else []
        row += [_labels(o)] if labels else []
        rows.append(row)
    return table(head, rows)


def events_table(events: Sequence[Obj], *, all_ns: bool) -> str:
    if not events:
        return "No events found."
    ordered = sorted(events, key=lambda e: str(e.get("lastTimestamp") or e.get("eventTime") or ""))
    head = (["NAMESPACE"] if all_ns else []) + ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    rows = []
    for e in ordered:
        obj = e.get("involvedObject", {})
        when = e.get("lastTimestamp") or e.get("eventTime") or _meta(e).get("creationTimestamp")
        row = [_meta(e).get("namespace", "")] if all_ns else []
        row += [
            age(when),
            e.get("type", ""),
            e.get("reason", ""),
            f"{str(obj.get('kind', '')).lower()}/{obj.get('name', '')}",
            str(e.get("message", "")).strip(),
        ]
        rows.append(row)
    return table(head, rows)


def as_yaml(obj: Obj) -> str:
    clean = {**obj, "metadata": {k: v for k, v in _meta(obj).items() if k != "managedFields"}}
    return yaml.safe_dump(clean, sort_keys=False, default_flow_style=False)


def rollout_history(kind: str, name: str, replicasets: Sequence[Obj]) -> str:
    revs = []
    for rs in replicasets:
        ann = _meta(rs).get("annotations") or {}
        rev = ann.get("deployment.kubernetes.io/revision")
        if rev and rev.isdigit():
            revs.append((int(rev), ann.get("kubernetes.io/change-cause") or "<none>"))
    if not revs:
        return f"{kind}/{name}\nNo rollout history found."
    rows = [[str(r), c] for r, c in sorted(revs)]
    return f"{kind}/{name}\n" + table(["REVISION", "CHANGE-CAUSE"], rows)
