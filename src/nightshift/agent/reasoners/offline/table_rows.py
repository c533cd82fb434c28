"""Reading tables and line listings: one resource per row, its signals on that line.

``kubectl get`` tables (pods, nodes, quotas, Services), alert listings and log
search hits: each row names its resource (the Deployment behind a pod or
ReplicaSet, the application a log stream's labels name) and what the row
itself says about calls (hosts, addresses, "a -> b" edges, database clients).
"""

from __future__ import annotations

import re

from nightshift.agent.reasoners.offline import sections
from nightshift.agent.reasoners.offline.findings import Analysis, Finding
from nightshift.agent.reasoners.offline.kinds import kind_name
from nightshift.agent.reasoners.offline.quotas import quota_row
from nightshift.agent.reasoners.offline.signals import (
    match_by_line,
)
from nightshift.agent.reasoners.offline.timeline import parse_time
from nightshift.agent.reasoners.offline.topology import (
    PodInfo,
    Topology,
    hosts_in,
    names_in,
    parse_labels,
    replicaset_owner,
    resolve_ips,
    workload_name,
    workload_ref,
)
from nightshift.agent.tools.protocol import ToolCall
from nightshift.domain.diagnosis import ResourceRef

_READY = re.compile(r"^\d+/\d+$")
_OBJ = re.compile(
    r"\b(pod|deployment|replicaset|job|cronjob|node|service|persistentvolumeclaim|statefulset|daemonset)/([\w.-]+)",
    re.I,
)

_NS_NAME = re.compile(r"(?<![\w./:-])([a-z0-9][a-z0-9-]*)/([a-z0-9][a-z0-9.-]*[a-z0-9])(?![\w/])")
_NOT_NAMESPACES = {"pod", "deployment", "service", "node", "job", "http", "https", "tcp", "udp"}

ERRORISH_WORDS = (
    "error",
    "fail",
    "refused",
    "timeout",
    "timed out",
    "denied",
    "unable",
    "cannot",
    "exception",
    "fatal",
    "panic",
)
# PostgreSQL's application_name (pg_stat_activity, log_line_prefix %a, alerts built on
# them) is the client that opened the session: that client depends on this database.
_APP_NAME = re.compile(r"\bapplication_name=([a-z0-9][a-z0-9-]*[a-z0-9])")
_EDGE = re.compile(r"(?:[a-z0-9][a-z0-9-]*/)?([a-z0-9][a-z0-9-]*)\s+->\s+([a-z0-9][a-z0-9.-]*)")


def text_param(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def read_table(
    call: ToolCall, text: str, source: str, ns: str | None, topo: Topology, out: Analysis
) -> None:
    kind = (text_param(call.params.get("kind")) or "").lower()
    by_line = match_by_line(text, source)
    rows = text.split("\n")
    starts = _record_starts(rows) if call.name == "list_alerts" else []
    current: ResourceRef | None = None  # the row a continuation line belongs to
    for idx, raw in enumerate(rows):
        line = raw.strip()
        if not line or line.startswith(("NAME", "NAMESPACE ", "LAST SEEN")):
            continue
        subject = _row(line, kind, ns, topo, call.name)
        if subject.name == "cluster" and current is not None:
            subject = current
        elif subject.name != "cluster":
            current = subject
        hits = by_line.get(idx, ())
        at = parse_time(line) if hits else None
        if at is None and hits and starts:  # the alert record's own start time
            near = min(starts, key=lambda st: abs(st[0] - idx))
            at = near[1] if abs(near[0] - idx) <= 60 else None
        for signal, hit in hits:
            out.findings.append(Finding(signal, subject, hit, at))
        low = line.lower()
        if call.name in ("list_alerts", "logs_search") and any(w in low for w in ERRORISH_WORDS):
            for host, port in hosts_in(line):
                topo.add_dependency(subject.name, host, port)
            resolve_ips(topo, subject.name, line)
        # cheap substring guards first: these patterns are costly on a long alert dump
        for app in _APP_NAME.findall(line) if "application_name=" in line else ():
            topo.clients.add((workload_name(app), subject.name))
        if call.name == "list_alerts" and "->" in line:  # "shop/a -> b": caller -> callee
            for caller, callee in _EDGE.findall(line):
                topo.add_dependency(workload_name(caller), callee, None)


_STREAM_APP = re.compile(r"\b(?:app|app_kubernetes_io_name|container)=\"?([a-z0-9][a-z0-9-]*)")
_START_WORDS = ("start", "active", "firing since", "first")  # substring guard for _STARTS

_STARTS = re.compile(r"starts_?at|activeAt|active_at|firing since|first_?seen|firstTimestamp", re.I)


def _record_starts(rows: list[str]) -> list[tuple[int, float]]:
    """(line index, time) of the start-time fields of alert records (JSON or YAML)."""
    out: list[tuple[int, float]] = []
    for idx, raw in enumerate(rows):
        low = raw.lower()
        if any(w in low for w in _START_WORDS) and _STARTS.search(raw):
            at = parse_time(raw)
            if at is not None:
                out.append((idx, at))
    return out


_POD_KINDS = ("", "pod", "pods", "po")
_NODE_KINDS = ("node", "nodes")
_QUOTA_KINDS = ("resourcequota", "resourcequotas", "quota")
_SERVICE_KINDS = ("service", "services", "svc")


def _row(line: str, kind: str, ns: str | None, topo: Topology, tool: str) -> ResourceRef:
    """The resource a row is about; a ``kubectl get`` row also records what its columns say."""
    obj = _OBJ.search(line)
    if obj:
        return _object_ref(obj.group(1).lower(), obj.group(2), ns)
    tokens = line.split()
    if tool == "kubectl_get" and tokens:
        return _get_row(line, tokens, kind, ns, topo)
    return _text_row(line, tool, ns, topo)


def _object_ref(k: str, name: str, ns: str | None) -> ResourceRef:
    """A "kind/name" the row spells out."""
    owner = replicaset_owner(name) if k == "replicaset" else None
    if owner:  # what a human fixes is the Deployment that templates the ReplicaSet
        return ResourceRef("Deployment", owner, ns)
    return workload_ref(name, ns) if k == "pod" else ResourceRef(kind_name(k), name, ns)


def _get_row(
    line: str, tokens: list[str], kind: str, ns: str | None, topo: Topology
) -> ResourceRef:
    """A ``kubectl get`` table row: pods, nodes, quotas and Services by their columns."""
    idx = next((i for i, t in enumerate(tokens) if _READY.match(t)), None)
    if kind in _POD_KINDS and idx is not None and idx >= 1:
        return _pod_row(tokens, idx, ns, topo)
    if kind in _NODE_KINDS:
        return _node_row(tokens, topo)
    if kind in _QUOTA_KINDS:
        return quota_row(line, tokens[0], ns, topo)
    if kind in _SERVICE_KINDS and len(tokens) > 2 and sections.pod_ip(tokens[2:3], 0):
        _service_row(tokens, topo)  # NAME TYPE CLUSTER-IP
    name = (
        tokens[1] if ns is None and len(tokens) > 1 and tokens[0] in topo.namespaces else tokens[0]
    )
    return ResourceRef(kind_name(kind) or "Resource", name, ns)


def _pod_row(tokens: list[str], idx: int, ns: str | None, topo: Topology) -> ResourceRef:
    """NAME READY STATUS RESTARTS (``idx`` is READY's column), with -o wide and labels."""
    name = tokens[idx - 1]
    pod_ns = tokens[idx - 2] if idx >= 2 else ns
    status = tokens[idx + 1] if len(tokens) > idx + 1 else ""
    restarts = tokens[idx + 2] if len(tokens) > idx + 2 else "0"
    topo.add_pod(
        PodInfo(name, pod_ns, tokens[idx], status, int(restarts) if restarts.isdigit() else 0)
    )
    ip = sections.pod_ip(tokens, idx + 3)  # -o wide: IP follows RESTARTS and AGE
    if ip:
        topo.ips[ip] = name
        node = tokens[tokens.index(ip) + 1] if tokens.index(ip) + 1 < len(tokens) else ""
        if node and node != "<none>":
            topo.pod_nodes[name] = node
    if "=" in tokens[-1]:  # --show-labels / -o labels: labels are the last column
        topo.labels[name] = parse_labels(tokens[-1])
    return workload_ref(name, pod_ns)


def _node_row(tokens: list[str], topo: Topology) -> ResourceRef:
    """NAME STATUS ... with -o labels."""
    topo.nodes.add(tokens[0])
    if len(tokens) > 1:
        topo.kinds[f"node-status:{tokens[0]}"] = tokens[1]
    if len(tokens) > 5 and "=" in tokens[-1]:  # -o labels: labels are the last column
        topo.node_labels[tokens[0]] = parse_labels(tokens[-1])
    return ResourceRef("Node", tokens[0])


def _service_row(tokens: list[str], topo: Topology) -> None:
    """A ClusterIP: the callers that named it by address depend on the Service."""
    topo.service_ips[tokens[2]] = tokens[0]
    for caller, ip, port in sorted(topo.unresolved):
        if ip == tokens[2]:
            topo.add_dependency(caller, tokens[0], port)


def _text_row(line: str, tool: str, ns: str | None, topo: Topology) -> ResourceRef:
    """A line of an alert or log listing: the application it names, else "cluster"."""
    app = _STREAM_APP.search(line) if tool == "logs_search" else None
    if app:  # a log stream's labels name the application that wrote the line
        return ResourceRef("Component", workload_name(app.group(1)), ns)
    for m in _NS_NAME.finditer(line):  # "shop/checkout-api" as alert targets print it
        name = workload_name(m.group(2))
        if m.group(1) not in _NOT_NAMESPACES and (name in topo.names or not topo.names):
            return ResourceRef("Component", name, m.group(1))
    names = names_in(line)
    target = next((n for n in names if n in topo.names), names[0] if names else "cluster")
    return ResourceRef("Component", workload_name(target), ns)
