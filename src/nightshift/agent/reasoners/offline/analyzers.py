"""Analyzers: turn one tool answer (text first) into findings and topology facts.

Log and tool text is treated strictly as data: it is only ever matched against
patterns, never interpreted as instructions.
"""

from __future__ import annotations

import re

from nightshift.agent.reasoners.offline import sections
from nightshift.agent.reasoners.offline.changes import parse_changes, touched_rules
from nightshift.agent.reasoners.offline.findings import Analysis, Finding
from nightshift.agent.reasoners.offline.kinds import kind_name
from nightshift.agent.reasoners.offline.localize import blamed, resolver_failed
from nightshift.agent.reasoners.offline.netpol import restricting_policies
from nightshift.agent.reasoners.offline.nodes import node_findings
from nightshift.agent.reasoners.offline.ports import (
    check_service_ports,
    record_container_ports,
    record_service_ports,
)
from nightshift.agent.reasoners.offline.quotas import quota_findings, quota_row
from nightshift.agent.reasoners.offline.signals import (
    ALERT,
    DB,
    K8S,
    LOG,
    NET,
    SEC,
    match_by_line,
    match_signals,
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
from nightshift.agent.tools.protocol import ToolCall, ToolResult, ToolStatus
from nightshift.domain.diagnosis import ResourceRef

SOURCE = {
    "kubectl_get": K8S,
    "kubectl_describe": K8S,
    "kubectl_events": K8S,
    "kubectl_rollout_history": K8S,
    "kubectl_top": K8S,
    "kubectl_logs": LOG,
    "logs_search": LOG,
    "network_check": NET,
    "firewall_rules": NET,
    "dns_lookup": NET,
    "db_stats": DB,
    "security_events": SEC,
    "list_alerts": ALERT,
    "prometheus_query": ALERT,
}
_READY = re.compile(r"^\d+/\d+$")
_OBJ = re.compile(
    r"\b(pod|deployment|replicaset|job|cronjob|node|service|persistentvolumeclaim|statefulset|daemonset)/([\w.-]+)",
    re.I,
)
_CONTROLLER = re.compile(r"^Controlled By:\s+(\S+)", re.M)
# "Port: 8080/TCP" or, for several, "Ports: 8080/TCP, 8081/TCP"; a Host Port (0 unless
# hostPort is set) is not a port the container listens on
_PORTS = re.compile(r"^\s+Ports?:[ \t]+([^\n]+)$", re.M)
_PORT_NUMBER = re.compile(r"(\d+)/(?:TCP|UDP|SCTP)")
_PROBE = re.compile(
    r"^\s+(Liveness|Readiness):\s+(?:http-get\s+\S*?:(\d+)|tcp-socket\s+\S*?:(\d+))", re.M
)
_TARGET_PORT = re.compile(r"^TargetPort:\s+(\d+)/", re.M)
_NS_NAME = re.compile(r"(?<![\w./:-])([a-z0-9][a-z0-9-]*)/([a-z0-9][a-z0-9.-]*[a-z0-9])(?![\w/])")
_NOT_NAMESPACES = {"pod", "deployment", "service", "node", "job", "http", "https", "tcp", "udp"}
_ERRORISH_WORDS = (
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


_STATEFUL_POD_RECORD = re.compile(
    r"^(?P<pod>[a-z0-9]([-a-z0-9]*[a-z0-9])?-\d+)\.(?P<svc>[a-z0-9-]+)\.(?P<ns>[a-z0-9-]+)"
    r"\.svc(\.cluster\.local)?\.?$"
)


# PostgreSQL's application_name (pg_stat_activity, log_line_prefix %a, alerts built on
# them) is the client that opened the session: that client depends on this database.
_APP_NAME = re.compile(r"\bapplication_name=([a-z0-9][a-z0-9-]*[a-z0-9])")


_EDGE = re.compile(r"(?:[a-z0-9][a-z0-9-]*/)?([a-z0-9][a-z0-9-]*)\s+->\s+([a-z0-9][a-z0-9.-]*)")


_CLIENT_ROW = re.compile(r"^\s*([a-z][a-z0-9-]*[a-z0-9])\s*\|\s*(\d+)\s*$", re.M)


def _db_clients(database: str, text: str, topo: Topology) -> None:
    """pg_stat_activity grouped by application_name: each client with sessions calls it."""
    head = text.find("application_name")
    if not database or head == -1:
        return
    block = text[head : text.find("\n\n", head) if "\n\n" in text[head:] else len(text)]
    for app, count in _CLIENT_ROW.findall(block):
        if int(count) > 0 and app not in ("rdsadmin", "postgres"):
            topo.clients.add((workload_name(app), database))


# pg_stat_statements rows: "calls | mean_ms | max_ms | rows | query"
_STATEMENT = re.compile(r"^\s*\d+\s*\|\s*(\d+(?:\.\d+)?)\s*\|[^\n]*\|\s*(\S[^\n]*)$", re.M)
SLOW_MEAN_MS = 1000.0  # an OLTP statement averaging a second holds its connection that long


def _slow_statements(database: str, text: str, out: Analysis) -> None:
    """A statement whose *mean* time is over a second: the database is slow for it."""
    head = text.find("mean_ms")
    if not database or head == -1:
        return
    for mean, query in _STATEMENT.findall(text[head:]):
        if float(mean) >= SLOW_MEAN_MS:
            line = f"slow query: mean {float(mean):.0f} ms: {query.strip()}"[:240]
            out.findings.append(Finding("db-slow", ResourceRef("Database", database), line))
            return


_NOT_FOUND = re.compile(r"\bnot found\b|NotFound")
_KNOWN_DBS = re.compile(r"\(known:\s*([^)]*)\)")


def analyze(call: ToolCall, result: ToolResult, topo: Topology) -> Analysis:
    out = Analysis()
    p = call.params
    sections.missing_autoscaler(call, result, topo, out)
    if call.name == "db_stats" and result.status is ToolStatus.OK:
        _db_clients(str(call.params.get("database") or ""), result.text, topo)
        _slow_statements(str(call.params.get("database") or ""), result.text, out)
    if call.name == "db_stats":  # "(known: customers-db, orders-db)": what is monitored
        for m in _KNOWN_DBS.finditer(f"{result.text}\n{result.error or ''}"):
            for db in re.split(r"[,\s]+", m.group(1)):
                if db and db != "none":
                    topo.kinds[f"database:{db}"] = "monitored"
    kind = (_str(p.get("kind")) or "").lower()
    name = _str(p.get("name"))
    if (
        call.name == "kubectl_describe"
        and kind in ("service", "services", "svc")
        and name
        and result.status is not ToolStatus.OK
        and _NOT_FOUND.search(f"{result.text}\n{result.error or ''}")
    ):  # an object that was never created makes its callers fail ("no such host")
        topo.missing_services.add((name, _str(p.get("namespace"))))
    if result.status is not ToolStatus.OK or not result.text.strip():
        # the tool's own words say why it had nothing ("no changes in the last 60 minutes")
        said = result.error or " ".join(result.text.split()) or "empty answer"
        out.summary = f"{result.status.value}: {said[:200]}"
        return out
    source = SOURCE.get(call.name, LOG)
    text = sections.distinct_lines(result.text) if source == LOG else result.text
    ns = _str(p.get("namespace"))
    if call.name == "recent_changes":
        parse_changes(text, out, topo)
    elif call.name == "node_diagnostics":
        node_findings(text, out)
    elif call.name in (
        "list_alerts",
        "kubectl_events",
        "kubectl_get",
        "logs_search",
        "security_events",
    ):
        _table(call, text, source, ns, topo, out)
    else:
        subject = _subject(call, text, ns)
        if call.name == "kubectl_describe":
            _describe(text, subject, topo, out)
        if call.name == "kubectl_logs":  # only hosts named where something failed
            for line in text.splitlines():
                low = line.lower()
                if any(w in low for w in _ERRORISH_WORDS):
                    for host, port in hosts_in(line):
                        topo.add_dependency(subject.name, host, port)
                    resolve_ips(topo, subject.name, line)
            sections.link_callers(text, subject, topo)
            root = sections.root_error(text)
            if root:
                out.findings.append(Finding("root-exception", subject, root, parse_time(root)))
        if call.name == "firewall_rules":
            touched_rules(text, out, topo)
            restricting_policies(text, out)
        if call.name == "dns_lookup":
            pod_record = _STATEFUL_POD_RECORD.match(str(call.params.get("name") or ""))
            if pod_record and re.search(r"NXDOMAIN|not found|no such host", text, re.I):
                # A headless service publishes <pod>.<service>.<ns>.svc only while
                # that pod is ready: a missing record is a symptom of the pod (or
                # its node), not a wrong address in the caller's configuration.
                pod = ResourceRef("Pod", pod_record["pod"], pod_record["ns"])
                out.findings.append(Finding("dns-pod-record-missing", pod, text.strip()[:200]))
            elif re.search(r"NXDOMAIN|not found|no such host", text, re.I):
                out.findings.append(Finding("dns-nxdomain", subject, text.strip()[:200]))
            elif re.search(
                r"SERVFAIL|timed out|timeout|no servers could be reached|REFUSED", text, re.I
            ):
                resolver = resolver_failed(subject, text)
                caller = _str(call.params.get("source"))
                if caller and resolver != subject:  # the caller depends on its resolver
                    topo.add_dependency(workload_name(caller), f"{resolver.name}.kube-system", 53)
                out.findings.append(Finding("dns-servfail", resolver, text.strip()[:200]))
        for signal, line in match_signals(text, source):
            out.findings.append(Finding(signal, subject, line, parse_time(line)))
        if call.name == "kubectl_describe":
            _context(text, subject, out, topo)
    _selectors(topo, out)
    check_service_ports(topo, out)
    quota_findings(topo, out)
    out.findings[:] = [b for f in out.findings for b in blamed(f)]
    signals = sorted({f.signal for f in out.findings})
    first = text.strip().splitlines()[0][:120] if text.strip() else ""
    out.summary = (
        f"{len(out.findings)} findings {signals[:8]}; {first}"
        if signals
        else f"no anomaly signals; {first}"
    )
    return out


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _subject(call: ToolCall, text: str, ns: str | None) -> ResourceRef:
    p = call.params
    name = _str(p.get("pod")) or _str(p.get("name")) or _str(p.get("destination"))
    name = (
        name
        or _str(p.get("database"))
        or _str(p.get("target"))
        or _str(p.get("query"))
        or "cluster"
    )
    kind = (_str(p.get("kind")) or "").lower()
    if call.name == "kubectl_logs" or kind in ("pod", "pods", "po"):
        ctl = _CONTROLLER.search(text)
        return workload_ref(name, ns, ctl.group(1) if ctl else None)
    if kind in ("replicaset", "replicasets", "rs"):  # what a human fixes is its Deployment
        return workload_ref(name, ns, f"ReplicaSet/{name}")
    kinds = {"network_check": "Service", "dns_lookup": "Service", "db_stats": "Database"}
    return ResourceRef(kinds.get(call.name, kind_name(kind) or "Component"), name, ns)


_SELECTOR = re.compile(r"^Selector:\s+(\S+=\S*)\s*$", re.M)
_NO_ENDPOINTS = re.compile(r"^Endpoints:[ \t]*(<none>)?[ \t]*$", re.M)


def _selectors(topo: Topology, out: Analysis) -> None:
    """A service whose selector matches none of the pods in its namespace."""
    for (svc, ns), selector in list(topo.selectors.items()):
        pods = [
            p for p, info in topo.pods.items() if p in topo.labels and info.namespace in (ns, None)
        ]
        if not pods or f"checked:{svc}" in topo.kinds:
            continue
        topo.kinds[f"checked:{svc}"] = "yes"
        if not any(all(topo.labels[p].get(k) == v for k, v in selector.items()) for p in pods):
            wanted = ",".join(f"{k}={v}" for k, v in selector.items())
            line = f"Selector {wanted} of service {svc} matches none of {len(pods)} pods in {ns}"
            out.findings.append(
                Finding("selector-matches-nothing", ResourceRef("Service", svc, ns), line)
            )


# "Node-Selectors:  pool=a" with one more label per indented continuation line
_NODE_SELECTOR = re.compile(r"^Node-Selectors:[ \t]+(\S+=\S*(?:\n[ \t]{8,}\S+=\S*)*)", re.M)
_REPLICAS = re.compile(r"^Replicas:\s+(\d+) desired \|[^|\n]*\|\s*(\d+) total", re.M)
_CREATED_POD = re.compile(r"Created pod:\s+([a-z0-9][\w.-]+)")
_NAMESPACE = re.compile(r"^Namespace:\s+(\S+)", re.M)


def _describe(text: str, subject: ResourceRef, topo: Topology, out: Analysis) -> None:
    ns = _NAMESPACE.search(text)
    namespace = ns.group(1) if ns else subject.namespace
    if namespace:
        topo.namespaces.add(namespace)
        topo.kinds.setdefault(f"ns:{subject.name}", namespace)
    sel = _SELECTOR.search(text)
    if sel and subject.kind.lower().startswith("service"):
        topo.selectors[(subject.name, namespace)] = parse_labels(sel.group(1))
        if _NO_ENDPOINTS.search(text):
            topo.no_endpoints.add((subject.name, namespace))
    selector = _NODE_SELECTOR.search(text)
    if selector and subject.kind != "Node":
        labels = parse_labels(",".join(selector.group(1).split()))
        if labels:
            topo.node_selectors[subject.name] = labels
    short = _REPLICAS.search(text)
    if short and int(short.group(2)) < int(short.group(1)):  # pods it could not create
        topo.kinds[f"short:{subject.name}"] = f"{short.group(2)}/{short.group(1)}"
    stalled = sections.stalled_replicaset(text)
    if stalled and subject.kind.lower() == "deployment":
        topo.stalled.add((stalled, namespace))
    for pod in _CREATED_POD.findall(text):  # the controller names the pods it made
        if pod not in topo.pods:
            topo.add_pod(PodInfo(pod, namespace, status="Unknown"))
    if subject.kind.lower().startswith("service"):
        record_service_ports(text, subject.name, namespace, topo)
    elif subject.kind != "Node":
        record_container_ports(text, subject.name, topo)
    ports = {int(x) for line in _PORTS.findall(text) for x in _PORT_NUMBER.findall(line)}
    for kind, http_port, tcp_port in _PROBE.findall(text):
        port = int(http_port or tcp_port)
        if ports and port not in ports:
            signal = "probe-port-mismatch" if kind == "Liveness" else "readiness-port-mismatch"
            out.findings.append(
                Finding(
                    signal,
                    subject,
                    f"{kind} probe port {port} not in container ports {sorted(ports)}",
                )
            )
    if ports:
        topo.kinds[f"ports:{subject.name}"] = ",".join(str(x) for x in sorted(ports))
    tp = _TARGET_PORT.search(text)
    if tp and subject.kind.lower().startswith("service"):
        for key, val in topo.kinds.items():
            if (
                key.startswith("ports:")
                and key[6:] in subject.name + " " + subject.name
                and tp.group(1) not in val.split(",")
            ):
                out.findings.append(
                    Finding(
                        "target-port-mismatch",
                        subject,
                        f"TargetPort {tp.group(1)} vs container ports {val}",
                    )
                )
    own = re.search(r"^Name:\s+(\S+)", text, re.M)
    ip = sections.describe_ip(text)
    if own and ip and subject.kind == "Service":  # a ClusterIP
        topo.service_ips[ip] = own.group(1)
        for caller, addr, port in sorted(topo.unresolved):
            if addr == ip:
                topo.add_dependency(caller, own.group(1), port)
    elif own and ip and subject.kind.lower() != "node":
        topo.ips.setdefault(ip, own.group(1))
    for line in sections.init_failures(text):
        out.findings.append(Finding("init-container-failed", subject, line))
    pending = re.search(r"^Status:\s+Pending", text, re.M)
    no_events = re.search(r"^Events:\s+<none>", text, re.M)
    if pending and no_events and not re.search(r"^Node:\s+\S+/", text, re.M):
        out.findings.append(
            Finding("pending-no-events", subject, "Pending with no node and no events")
        )


# Spec fields that carry the detail a human needs to check a signal (the
# selector that matches no node, the image that cannot be pulled, ...).
_CONTEXT: dict[str, re.Pattern[str]] = {
    "sched-selector": re.compile(r"^Node-Selectors:\s+(?!<none>).*$", re.M),
    "sched-pvc": re.compile(r"^\s+ClaimName:\s+\S+", re.M),
    "image-pull": re.compile(r"^\s+Image:\s+\S+", re.M),
    "bad-command": re.compile(r"^\s+(?:Command|Args):\s*\n(?:\s{5,}\S.*\n?){1,4}", re.M),
    "crashloop": re.compile(r"^\s+(?:Command|Args):\s*\n(?:\s{5,}\S.*\n?){1,4}", re.M),
    "pvc-provisioning": re.compile(r"^StorageClass:\s+\S+", re.M),
}
_CLAIM = re.compile(r"^\s+ClaimName:\s+(\S+)", re.M)


def _context(text: str, subject: ResourceRef, out: Analysis, topo: Topology) -> None:
    found = {f.signal for f in out.findings}
    for signal, pattern in _CONTEXT.items():
        m = pattern.search(text) if signal in found else None
        if m:
            detail = " ".join(m.group(0).split())
            out.findings.append(Finding(f"context:{signal}", subject, detail[:240]))
    for claim in _CLAIM.findall(text):
        topo.claims.add((claim, subject.namespace))


def _table(
    call: ToolCall, text: str, source: str, ns: str | None, topo: Topology, out: Analysis
) -> None:
    kind = (_str(call.params.get("kind")) or "").lower()
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
        if call.name in ("list_alerts", "logs_search") and any(w in low for w in _ERRORISH_WORDS):
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


def _row(line: str, kind: str, ns: str | None, topo: Topology, tool: str) -> ResourceRef:
    tokens = line.split()
    obj = _OBJ.search(line)
    if obj:
        k, name = obj.group(1).lower(), obj.group(2)
        owner = replicaset_owner(name) if k == "replicaset" else None
        if owner:  # what a human fixes is the Deployment that templates the ReplicaSet
            return ResourceRef("Deployment", owner, ns)
        return workload_ref(name, ns) if k == "pod" else ResourceRef(kind_name(k), name, ns)
    idx = next((i for i, t in enumerate(tokens) if _READY.match(t)), None)
    if tool == "kubectl_get" and kind in ("", "pod", "pods", "po") and idx is not None and idx >= 1:
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
    if tool == "kubectl_get" and kind in ("node", "nodes") and tokens:
        topo.nodes.add(tokens[0])
        if len(tokens) > 1:
            topo.kinds[f"node-status:{tokens[0]}"] = tokens[1]
        if len(tokens) > 5 and "=" in tokens[-1]:  # -o labels: labels are the last column
            topo.node_labels[tokens[0]] = parse_labels(tokens[-1])
        return ResourceRef("Node", tokens[0])
    if tool == "kubectl_get" and kind in ("resourcequota", "resourcequotas", "quota") and tokens:
        return quota_row(line, tokens[0], ns, topo)
    listed = tool == "kubectl_get" and kind in ("service", "services", "svc")
    if listed and len(tokens) > 2 and sections.pod_ip(tokens[2:3], 0):  # NAME TYPE CLUSTER-IP
        topo.service_ips[tokens[2]] = tokens[0]
        for caller, ip, port in sorted(topo.unresolved):
            if ip == tokens[2]:
                topo.add_dependency(caller, tokens[0], port)
    if tool == "kubectl_get" and tokens:
        name = (
            tokens[1]
            if ns is None and len(tokens) > 1 and tokens[0] in topo.namespaces
            else tokens[0]
        )
        return ResourceRef(kind_name(kind) or "Resource", name, ns)
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
