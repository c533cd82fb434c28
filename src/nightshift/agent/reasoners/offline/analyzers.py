"""Analyzers: turn one tool answer (text first) into findings and topology facts.

Log and tool text is treated strictly as data: it is only ever matched against
patterns, never interpreted as instructions.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from nightshift.agent.reasoners.offline import sections
from nightshift.agent.reasoners.offline.changes import parse_changes, touched_rules
from nightshift.agent.reasoners.offline.describe import describe_context, read_describe
from nightshift.agent.reasoners.offline.findings import Analysis, Finding
from nightshift.agent.reasoners.offline.kinds import kind_name
from nightshift.agent.reasoners.offline.localize import blamed, resolver_failed
from nightshift.agent.reasoners.offline.netpol import restricting_policies
from nightshift.agent.reasoners.offline.nodes import node_findings
from nightshift.agent.reasoners.offline.ports import (
    check_service_ports,
)
from nightshift.agent.reasoners.offline.quotas import quota_findings
from nightshift.agent.reasoners.offline.signals import (
    ALERT,
    DB,
    K8S,
    LOG,
    NET,
    SEC,
    match_signals,
)
from nightshift.agent.reasoners.offline.table_rows import ERRORISH_WORDS, read_table, text_param
from nightshift.agent.reasoners.offline.timeline import parse_time
from nightshift.agent.reasoners.offline.topology import (
    Topology,
    hosts_in,
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
_CONTROLLER = re.compile(r"^Controlled By:\s+(\S+)", re.M)


_STATEFUL_POD_RECORD = re.compile(
    r"^(?P<pod>[a-z0-9]([-a-z0-9]*[a-z0-9])?-\d+)\.(?P<svc>[a-z0-9-]+)\.(?P<ns>[a-z0-9-]+)"
    r"\.svc(\.cluster\.local)?\.?$"
)


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


_TABLE_TOOLS = frozenset(
    {"list_alerts", "kubectl_events", "kubectl_get", "logs_search", "security_events"}
)
_NO_RECORD = re.compile(r"NXDOMAIN|not found|no such host", re.I)
_RESOLVER_FAILED = re.compile(
    r"SERVFAIL|timed out|timeout|no servers could be reached|REFUSED", re.I
)


def analyze(call: ToolCall, result: ToolResult, topo: Topology) -> Analysis:
    out = Analysis()
    sections.missing_autoscaler(call, result, topo, out)
    if call.name == "db_stats":
        _read_db_stats(result, str(call.params.get("database") or ""), topo, out)
    _missing_service(call, result, topo)
    if result.status is not ToolStatus.OK or not result.text.strip():
        # the tool's own words say why it had nothing ("no changes in the last 60 minutes")
        said = result.error or " ".join(result.text.split()) or "empty answer"
        out.summary = f"{result.status.value}: {said[:200]}"
        return out
    source = SOURCE.get(call.name, LOG)
    text = sections.distinct_lines(result.text) if source == LOG else result.text
    ns = text_param(call.params.get("namespace"))
    if call.name == "recent_changes":
        parse_changes(text, out, topo)
    elif call.name == "node_diagnostics":
        node_findings(text, out)
    elif call.name in _TABLE_TOOLS:
        read_table(call, text, source, ns, topo, out)
    else:
        _read_one_subject(call, text, source, ns, topo, out)
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


def _read_db_stats(result: ToolResult, database: str, topo: Topology, out: Analysis) -> None:
    """The database's clients and slow statements; which databases are monitored at all."""
    if result.status is ToolStatus.OK:
        _db_clients(database, result.text, topo)
        _slow_statements(database, result.text, out)
    # "(known: customers-db, orders-db)": what is monitored
    for m in _KNOWN_DBS.finditer(f"{result.text}\n{result.error or ''}"):
        for db in re.split(r"[,\s]+", m.group(1)):
            if db and db != "none":
                topo.kinds[f"database:{db}"] = "monitored"


def _missing_service(call: ToolCall, result: ToolResult, topo: Topology) -> None:
    """A Service that was never created makes its callers fail ("no such host")."""
    p = call.params
    kind = (text_param(p.get("kind")) or "").lower()
    name = text_param(p.get("name"))
    if (
        call.name == "kubectl_describe"
        and kind in ("service", "services", "svc")
        and name
        and result.status is not ToolStatus.OK
        and _NOT_FOUND.search(f"{result.text}\n{result.error or ''}")
    ):
        topo.missing_services.add((name, text_param(p.get("namespace"))))


def _read_one_subject(
    call: ToolCall, text: str, source: str, ns: str | None, topo: Topology, out: Analysis
) -> None:
    """An answer about one subject (a pod's logs, a describe, a DNS lookup, ...)."""
    subject = _subject(call, text, ns)
    reader = _SUBJECT_READERS.get(call.name)
    if reader is not None:
        reader(call, text, subject, topo, out)
    for signal, line in match_signals(text, source):
        out.findings.append(Finding(signal, subject, line, parse_time(line)))
    if call.name == "kubectl_describe":
        describe_context(text, subject, out, topo)


def _read_describe(
    call: ToolCall, text: str, subject: ResourceRef, topo: Topology, out: Analysis
) -> None:
    read_describe(text, subject, topo, out)


def _read_logs(
    call: ToolCall, text: str, subject: ResourceRef, topo: Topology, out: Analysis
) -> None:
    """Hosts named only where something failed, callers, and the root exception."""
    for line in text.splitlines():
        low = line.lower()
        if any(w in low for w in ERRORISH_WORDS):
            for host, port in hosts_in(line):
                topo.add_dependency(subject.name, host, port)
            resolve_ips(topo, subject.name, line)
    sections.link_callers(text, subject, topo)
    root = sections.root_error(text)
    if root:
        out.findings.append(Finding("root-exception", subject, root, parse_time(root)))


def _read_firewall(
    call: ToolCall, text: str, subject: ResourceRef, topo: Topology, out: Analysis
) -> None:
    touched_rules(text, out, topo)
    restricting_policies(text, out)


def _read_dns(
    call: ToolCall, text: str, subject: ResourceRef, topo: Topology, out: Analysis
) -> None:
    """A missing record (of a StatefulSet pod, or a wrong name), or a failing resolver."""
    pod_record = _STATEFUL_POD_RECORD.match(str(call.params.get("name") or ""))
    if pod_record and _NO_RECORD.search(text):
        # A headless service publishes <pod>.<service>.<ns>.svc only while
        # that pod is ready: a missing record is a symptom of the pod (or
        # its node), not a wrong address in the caller's configuration.
        pod = ResourceRef("Pod", pod_record["pod"], pod_record["ns"])
        out.findings.append(Finding("dns-pod-record-missing", pod, text.strip()[:200]))
    elif _NO_RECORD.search(text):
        out.findings.append(Finding("dns-nxdomain", subject, text.strip()[:200]))
    elif _RESOLVER_FAILED.search(text):
        resolver = resolver_failed(subject, text)
        caller = text_param(call.params.get("source"))
        if caller and resolver != subject:  # the caller depends on its resolver
            topo.add_dependency(workload_name(caller), f"{resolver.name}.kube-system", 53)
        out.findings.append(Finding("dns-servfail", resolver, text.strip()[:200]))


_SubjectReader = Callable[[ToolCall, str, ResourceRef, Topology, Analysis], None]
# what each one-subject tool's answer says beyond the signals matched in its text
_SUBJECT_READERS: dict[str, _SubjectReader] = {
    "kubectl_describe": _read_describe,
    "kubectl_logs": _read_logs,
    "firewall_rules": _read_firewall,
    "dns_lookup": _read_dns,
}


def _subject(call: ToolCall, text: str, ns: str | None) -> ResourceRef:
    p = call.params
    name = text_param(p.get("pod")) or text_param(p.get("name")) or text_param(p.get("destination"))
    name = (
        name
        or text_param(p.get("database"))
        or text_param(p.get("target"))
        or text_param(p.get("query"))
        or "cluster"
    )
    kind = (text_param(p.get("kind")) or "").lower()
    if call.name == "kubectl_logs" or kind in ("pod", "pods", "po"):
        ctl = _CONTROLLER.search(text)
        return workload_ref(name, ns, ctl.group(1) if ctl else None)
    if kind in ("replicaset", "replicasets", "rs"):  # what a human fixes is its Deployment
        return workload_ref(name, ns, f"ReplicaSet/{name}")
    kinds = {"network_check": "Service", "dns_lookup": "Service", "db_stats": "Database"}
    return ResourceRef(kinds.get(call.name, kind_name(kind) or "Component"), name, ns)


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
