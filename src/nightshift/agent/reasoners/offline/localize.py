"""Where the fix applies: moving a finding from where it was *seen* to what it *blames*.

Kubernetes reports many faults on the object that suffered them, not on the
one to fix: a ReplicaSet's FailedCreate names the ResourceQuota that refused
it, a pod's FailedScheduling blames cordoned nodes, a SERVFAIL from the
cluster resolver is the resolver's configuration. A diagnosis must name the
object the catalog action acts on (``uncordon-node`` needs a Node), so
findings are re-aimed when the message names the culprit, and hypotheses seen
on a workload yield to the same fault on the object of the fixing kind.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, MutableMapping
from typing import Protocol, TypeVar

from nightshift.agent.reasoners.offline.findings import Finding
from nightshift.agent.reasoners.offline.topology import hosts_in, workload_name
from nightshift.domain.diagnosis import ResourceRef

# The kind of object each fault's fix acts on, where it is not the workload.
FIX_KIND: dict[str, str] = {
    "node-cordoned": "Node",
    "node-not-ready": "Node",
    "kubelet-down": "Node",
    "container-runtime-failure": "Node",
    "cni-network-failure": "Node",
    "node-disk-pressure": "Node",
    "node-memory-pressure": "Node",
    "resource-quota-exceeded": "ResourceQuota",
    "network-policy-blocking": "NetworkPolicy",
    "volume-mount-failure": "PersistentVolumeClaim",
    "db-slow-query": "Database",  # a slow statement is tuned (or its index restored) in the DB
}
# Below the confirmation threshold: a fault seen only where it hurt is not yet
# located; the run goes on until the object to fix has been seen.
UNLOCATED_CAP = 0.8
_CLAIM = re.compile(r"persistentvolumeclaim \"([\w.-]+)\" not found", re.I)
_QUOTA = re.compile(r"exceeded quota:\s*([a-z0-9][a-z0-9.-]*)", re.I)
_CONTROL_PLANE = re.compile(r"\b(control-plane|master)\b")
_CLUSTER_DNS = ResourceRef("ConfigMap", "coredns", "kube-system")


def blamed(finding: Finding) -> tuple[Finding, ...]:
    """The finding, plus its copy aimed at the object its message blames.

    The original stays: it is the symptom where it hurt, and ``relocate``
    makes it an effect of the blamed object. An empty tuple drops it."""
    if finding.signal == "pvc-not-found":
        m = _CLAIM.search(finding.line)
        if m:
            claim = ResourceRef("PersistentVolumeClaim", m.group(1), finding.subject.namespace)
            return finding, Finding(finding.signal, claim, finding.line, finding.at)
    if finding.signal == "too-many-conns":
        # "could not connect to auth:5432: FATAL: sorry, too many clients already" is the
        # server refusing: its max_connections is the limit, not the caller's pool
        server = next((h for h, _p in hosts_in(finding.line)), None)
        if server:
            ref = ResourceRef("Component", workload_name(server.split(".")[0]), None)
            return (Finding(finding.signal, ref, finding.line, finding.at),)
    if finding.signal == "quota-exceeded":
        m = _QUOTA.search(finding.line)
        if m:
            quota = ResourceRef("ResourceQuota", m.group(1), finding.subject.namespace)
            return finding, Finding(finding.signal, quota, finding.line, finding.at)
    if (
        finding.signal == "sched-cordoned"
        and finding.subject.kind == "Node"
        and _CONTROL_PLANE.search(finding.line)
    ):
        return ()  # control-plane nodes are cordoned on purpose
    return (finding,)


def resolver_failed(subject: ResourceRef, text: str) -> ResourceRef:
    """SERVFAIL: the cluster resolver was reached and failed to answer.

    A timeout means the resolver could not be reached (a network path); a
    SERVFAIL means it answered with a failure, which in-cluster lookups
    (dnsPolicy ClusterFirst) trace to CoreDNS and its Corefile, the ConfigMap
    kube-system/coredns (stub zones, forwarders)."""
    if re.search(r"SERVFAIL|server misbehaving", text):
        return _CLUSTER_DNS
    return subject


class _Belief(Protocol):
    @property
    def confidence(self) -> float: ...


B = TypeVar("B", bound=_Belief)
Key = tuple[ResourceRef, str]


def relocate(
    out: MutableMapping[Key, B],
    scale: Callable[[B, float, Key | None], B],
    noted: frozenset[str] = frozenset(),
) -> None:
    """A fault seen on a workload yields to the same fault on the object to fix.

    ``scale(belief, confidence, parent)`` returns the belief with a new
    confidence (and parent). The located hypothesis takes the strongest
    workload-side confidence; the workload-side ones become its effects.
    Unlocated ones stay below the confirmation threshold."""
    for fault, kind in FIX_KIND.items():
        keys = [k for k in out if k[1] == fault]
        located = [k for k in keys if k[0].kind == kind]
        seen = [k for k in keys if k[0].kind != kind and k[0].kind != "Change"]
        if not seen:
            continue
        if not located:
            for k in seen:
                b = out[k]
                out[k] = scale(b, min(b.confidence, UNLOCATED_CAP), None)
            continue
        strongest = max(out[k].confidence for k in seen)
        for k in located:
            b = out[k]
            miss = (1.0 - b.confidence) * (1.0 - strongest)
            out[k] = scale(b, 1.0 - miss, None)
        best = max(located, key=lambda k: (out[k].confidence, k[0].name))
        for k in seen:
            b = out[k]
            out[k] = scale(b, b.confidence * 0.7, best)
    _cordon_before_capacity(out, scale, noted)
    _specific_over_general(out, scale)


def _cordon_before_capacity(
    out: MutableMapping[Key, B], scale: Callable[[B, float, Key | None], B], noted: frozenset[str]
) -> None:
    """ "2 Insufficient cpu, 2 node(s) were unschedulable" after a drain: the cordoned
    nodes are the capacity the pod is missing; uncordoning them is the fix, not adding
    nodes. Only a cordon that something recorded (a change, a drain) counts: a pool
    cordoned all along is the cluster's shape, and the capacity is what is short.
    (A cordoned control-plane node never gets here: its finding is dropped.)"""
    nodes = [
        k
        for k in out
        if k[1] == "node-cordoned" and k[0].kind == "Node" and k[0].name.split(".")[0] in noted
    ]
    if not nodes and any(k[1] == "node-cordoned" and k[0].kind == "Node" for k in out):
        return
    best = max(nodes, key=lambda k: (out[k].confidence, k[0].name)) if nodes else None
    for key in list(out):
        ref, fault = key
        if fault == "insufficient-cluster-resources" and (ref, "node-cordoned") in out:
            b = out[key]
            if best is None:  # not before the nodes were looked at
                out[key] = scale(b, min(b.confidence, UNLOCATED_CAP), None)
            else:
                out[key] = scale(b, b.confidence * 0.6, best)


# On one object, a specific failure explains the general state it puts the object in:
# a kubelet that stopped posting status is *why* the node is NotReady.
SPECIFIC: dict[str, tuple[str, ...]] = {
    "node-not-ready": ("kubelet-down", "container-runtime-failure"),
}


def _specific_over_general(
    out: MutableMapping[Key, B], scale: Callable[[B, float, Key | None], B]
) -> None:
    for general, specifics in SPECIFIC.items():
        for key in [k for k in out if k[1] == general]:
            found = [(key[0], f) for f in specifics if (key[0], f) in out]
            found = [k for k in found if out[k].confidence >= 0.3]
            if not found:
                continue
            best = max(found, key=lambda k: out[k].confidence)
            g, b = out[key], out[best]
            miss = (1.0 - b.confidence) * (1.0 - 0.8 * g.confidence)
            out[best] = scale(b, 1.0 - miss, None)
            out[key] = scale(g, g.confidence * 0.7, best)


# Faults of one process, not of its template: when one replica shows it and its
# siblings read clean, that pod is what to restart (restart-pod), not the Deployment.
ONE_REPLICA = frozenset({"application-deadlock-hang", "memory-pressure-leak"})
_WORKLOADS = frozenset({"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"})


def one_replica(
    out: MutableMapping[Key, B],
    pod_logs: Mapping[str, set[str]],
    signals_of: Callable[[str], set[str]],
    workload_of: Callable[[str], str],
    scale: Callable[[B, float, Key | None], B],
) -> None:
    """``pod_logs``: pod -> the signals its logs showed (for every pod whose logs were read)."""
    for key in [k for k in out if k[1] in ONE_REPLICA and k[0].kind in _WORKLOADS]:
        ref, fault = key
        read = [p for p in pod_logs if workload_of(p) == ref.name]
        wanted = signals_of(fault)
        sick = [p for p in read if pod_logs[p] & wanted]
        if len(read) < 2 or len(sick) != 1:
            continue
        pod = (ResourceRef("Pod", sick[0], ref.namespace), fault)
        b = out[key]
        out[pod] = scale(b, b.confidence, None)
        out[key] = scale(b, b.confidence * 0.7, pod)
