"""Next-question selection: which tool calls best discriminate live hypotheses.

Every candidate call gets a value: orientation calls (alerts, changes, pods,
events) first; then calls on unhealthy pods and named resources; then, per
live hypothesis, the tools its taxonomy entry says confirm it, weighted by how
uncertain the hypothesis still is (c * (1 - c) is largest near 0.5, so calls
that could still move a belief either way win) and divided by the tool's cost.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache

from nightshift.agent.reasoners.offline.belief import Belief, Key
from nightshift.agent.reasoners.offline.calls import Candidate
from nightshift.agent.reasoners.offline.calls import candidate as _c
from nightshift.agent.reasoners.offline.leads import (
    orientation,
    pod_leads,
    topology_leads,
    unresolved_names,
)
from nightshift.agent.reasoners.offline.localize import FIX_KIND
from nightshift.agent.reasoners.offline.topology import Topology, looks_like_database, workload_name
from nightshift.agent.reasoners.offline.widening import widen
from nightshift.agent.request import InvestigationRequest
from nightshift.agent.tools.protocol import ToolCall
from nightshift.domain.diagnosis import ResourceRef
from nightshift.domain.taxonomy import load_taxonomy

MIN_VALUE = 0.6
_TOOL = re.compile(
    r"\b(kubectl_\w+|db_stats|network_check|dns_lookup|firewall_rules|security_events|prometheus_query|logs_search|recent_changes)\b"
)
_GET_KIND = re.compile(r"kubectl_get (\w+)")
_PROM = {
    "cpu-throttling": (
        "rate(container_cpu_cfs_throttled_periods_total[5m])"
        " / rate(container_cpu_cfs_periods_total[5m])"
    ),
    "cpu-saturation": "sum(rate(container_cpu_usage_seconds_total[5m])) by (pod)",
    "memory-pressure-leak": "container_memory_working_set_bytes",
    "high-latency-dependency": (
        "histogram_quantile(0.99,"
        " sum(rate(http_request_duration_seconds_bucket[5m])) by (le, service))"
    ),
    "packet-loss": "rate(node_netstat_Tcp_RetransSegs[5m])",
    "db-replication-lag": "pg_replication_lag_seconds",
}


@cache
def confirm_tools(fault: str) -> tuple[frozenset[str], tuple[str, ...]]:
    text = load_taxonomy().get(fault).confirm
    return frozenset(_TOOL.findall(text)), tuple(_GET_KIND.findall(text))


def candidates(
    req: InvestigationRequest, topo: Topology, beliefs: Mapping[Key, Belief]
) -> list[Candidate]:
    """Every call worth asking now, valued: the leads (leads.py), the named
    resources' own checks, and what each live hypothesis wants confirmed."""
    ns = topo.hint_ns
    out = orientation(topo)
    for i, name in enumerate(topo.names[:4]):
        out.extend(
            _named_calls(
                name, topo.kinds.get(name, ""), ns or topo.namespace_of(name), 9.6 - i * 0.3
            )
        )
    out += pod_leads(topo)
    out += unresolved_names(topo)
    out += topology_leads(topo)
    placing = {"node-selector-mismatch", "untolerated-taint", "node-cordoned"}
    if not topo.node_labels and any(k[1] in placing for k in beliefs):
        # which nodes the pods' selectors match decides which predicate is the fault
        out.append(
            _c("kubectl_get", 9.0, "which nodes carry the labels", kind="nodes", output="labels")
        )
    out.extend(_by_hypothesis(req, topo, beliefs))
    out.extend(widen(req, topo, beliefs))
    return out


def _named_calls(name: str, kind: str, ns: str | None, value: float) -> list[Candidate]:
    """Calls about a resource the request names, before any listing."""
    if kind == "pod" or (not kind and workload_name(name) != name):
        return [
            _c(
                "kubectl_describe",
                value,
                f"describe named pod {name}",
                kind="pod",
                name=name,
                namespace=ns,
            ),
            _c("kubectl_logs", value - 0.4, f"logs of {name}", pod=name, namespace=ns, tail=200),
            _c(
                "kubectl_logs",
                value - 0.5,
                f"last crash of {name}",
                pod=name,
                namespace=ns,
                previous=True,
                tail=200,
            ),
            _c(
                "kubectl_events",
                value - 1.0,
                f"events of {name}",
                namespace=ns,
                kind="Pod",
                name=name,
            ),
        ]
    if kind == "node":
        return [_c("kubectl_describe", value, f"describe node {name}", kind="node", name=name)]
    calls = [_c("kubectl_get", value, f"find pods of {name}", kind="pod", name=name, namespace=ns)]
    if ns:  # the hint may be stale (a moved workload): look cluster-wide too
        calls.append(_c("kubectl_get", value - 1.5, f"find {name} anywhere", kind="pod", name=name))
    if kind:
        calls.append(
            _c(
                "kubectl_describe",
                value - 0.2,
                f"describe {kind} {name}",
                kind=kind,
                name=name,
                namespace=ns,
            )
        )
        calls.append(
            _c(
                "kubectl_events",
                value - 1.0,
                f"events of {name}",
                namespace=ns,
                kind=kind,
                name=name,
            )
        )
    return calls


def _by_hypothesis(
    req: InvestigationRequest, topo: Topology, beliefs: Mapping[Key, Belief]
) -> list[Candidate]:
    out: list[Candidate] = []
    ranked = sorted(beliefs.items(), key=lambda kv: -kv[1].confidence)[:6]
    for (ref, fault), belief in ranked:
        c = belief.confidence
        value = 1.0 + 12.0 * c * (1.0 - c)
        ns = ref.namespace or req.namespace or topo.namespace_of(ref.name)
        tools, get_kinds = confirm_tools(fault)
        why = f"test {fault} on {ref.kind}/{ref.name}"
        if ref.kind == "Change":
            out.extend(_check_change(ref, fault, topo, value, why, ns))
            continue
        fix_kind = FIX_KIND.get(fault)
        if fix_kind and fix_kind != "Database" and ref.kind != fix_kind:  # find what to fix
            out.append(
                _c(
                    "kubectl_get",
                    value * 1.2,
                    f"{why}: which {fix_kind} to fix",
                    kind=fix_kind.lower() + "s",
                    namespace=None if fix_kind == "Node" else ns,
                )
            )
        if "kubectl_describe" in tools and ref.kind not in ("Component", "Change", "Workload"):
            out.append(
                _c(
                    "kubectl_describe",
                    value,
                    why,
                    kind=ref.kind.lower(),
                    name=ref.name,
                    namespace=ns,
                )
            )
        for kind in get_kinds[:2]:
            node_scoped = kind.startswith("node")
            out.append(
                _c(
                    "kubectl_get",
                    value * 0.9,
                    why,
                    kind=kind,
                    namespace=None if node_scoped else ns,
                )
            )
        if "kubectl_rollout_history" in tools and ref.kind == "Deployment":
            out.append(_c("kubectl_rollout_history", value, why, name=ref.name, namespace=ns))
        if "db_stats" in tools:
            dbs = [h.split(".")[0] for _s, h, _p in topo.dependencies() if looks_like_database(h)]
            # databases a schema change touched, or that the monitoring says it watches
            dbs += sorted(k[9:] for k in topo.kinds if k.startswith("database:"))
            for db in dict.fromkeys(dbs or [ref.name]):
                out.append(_c("db_stats", value, why, database=db))
        if "security_events" in tools:
            out.append(_c("security_events", value, why, target=ref.name))
        if "kubectl_top" in tools:
            out.append(_c("kubectl_top", value * 0.8, why, kind="pods", namespace=ns))
        if "firewall_rules" in tools:
            out.append(_c("firewall_rules", value * 0.9, why, target=ref.name))
        if "prometheus_query" in tools and fault in _PROM:
            out.append(
                _c("prometheus_query", value * 0.8, why, query=_PROM[fault], range_minutes=60)
            )
    return out


_ROLLED_OUT = frozenset({"Deployment", "StatefulSet", "DaemonSet"})


def _check_change(
    ref: ResourceRef, fault: str, topo: Topology, value: float, why: str, ns: str | None
) -> list[Candidate]:
    """A change record is named by its id; checking it means looking at what it changed."""
    changed = topo.kinds.get(f"change:{ref.name}", ref.name)
    kind = topo.kinds.get(f"change-kind:{ref.name}", "")
    where = topo.kinds.get(f"change-ns:{ref.name}") or ns
    if "firewall" in fault:
        return [_c("firewall_rules", value, why, target=changed)]
    if kind in _ROLLED_OUT:
        return [_c("kubectl_rollout_history", value, why, name=changed, namespace=where)]
    if kind and changed != kind.lower():
        scope = None if kind == "Node" else where
        k = kind.lower()
        return [_c("kubectl_describe", value, why, kind=k, name=changed, namespace=scope)]
    if kind:  # a change to every object of a kind in a namespace
        return [_c("kubectl_get", value, why, kind=kind.lower(), namespace=where)]
    return []


def select(cands: list[Candidate], asked: set[str], limit: int) -> list[Candidate]:
    best: dict[str, Candidate] = {}
    for cand in cands:
        fp = fingerprint(cand.call)
        if fp in asked or cand.value < MIN_VALUE:
            continue
        if fp not in best or best[fp].value < cand.value:
            best[fp] = cand
    return sorted(best.values(), key=lambda c: (-c.value, fingerprint(c.call)))[:limit]


def fingerprint(call: ToolCall) -> str:
    return call.name + repr(sorted((k, repr(v)) for k, v in call.params.items()))
