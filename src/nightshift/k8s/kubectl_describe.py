"""``kubectl describe KIND NAME``: one entry point for every kind, from API objects.

kubectl's describers read more than the object: events about it, the pods a
workload owns, a service's EndpointSlices, the pods on a node. ``Related``
carries those so that any source of API objects (a live cluster, a recorded
snapshot, the simulated world) prints the same text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from nightshift.k8s.describe_node import describe_node
from nightshift.k8s.describe_other import (
    describe_configmap,
    describe_endpoints,
    describe_generic,
    describe_limitrange,
    describe_namespace,
    describe_netpol,
    describe_pvc,
    describe_quota,
    describe_service,
    describe_serviceaccount,
)
from nightshift.k8s.describe_pod import describe_pod
from nightshift.k8s.describe_workloads import (
    describe_daemonset,
    describe_deployment,
    describe_job,
    describe_replicaset,
    describe_statefulset,
)

__all__ = ["Related", "describe", "describe_pod", "needs"]

Obj = dict[str, Any]


@dataclass(frozen=True)
class Related:
    """What a describer reads besides the object; unrelated entries may stay empty."""

    events: Sequence[Obj] | None = ()
    pods: Sequence[Obj] = ()
    replicasets: Sequence[Obj] = ()
    endpointslices: Sequence[Obj] = ()
    quotas: Sequence[Obj] = ()
    limitranges: Sequence[Obj] = ()
    lease: Obj | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def needs(plural: str) -> frozenset[str]:
    """Which ``Related`` lists a kind's describer reads (so a caller fetches only those)."""
    return {
        "pods": frozenset(),
        "deployments": frozenset({"replicasets"}),
        "replicasets": frozenset({"pods"}),
        "statefulsets": frozenset({"pods"}),
        "daemonsets": frozenset({"pods"}),
        "jobs": frozenset({"pods"}),
        "services": frozenset({"endpointslices"}),
        "nodes": frozenset({"pods", "lease"}),
        "persistentvolumeclaims": frozenset({"pods"}),
        "namespaces": frozenset({"quotas", "limitranges"}),
    }.get(plural, frozenset())


def describe(plural: str, obj: Obj, related: Related, now: datetime | None = None) -> str:
    ev = related.events
    if plural == "pods":
        return describe_pod(obj, ev, now)
    if plural == "deployments":
        return describe_deployment(obj, related.replicasets, ev, now)
    if plural == "replicasets":
        return describe_replicaset(obj, related.pods, ev, now)
    if plural == "statefulsets":
        return describe_statefulset(obj, related.pods, ev, now)
    if plural == "daemonsets":
        return describe_daemonset(obj, related.pods, ev, now)
    if plural == "jobs":
        return describe_job(obj, related.pods, ev, now)
    if plural == "services":
        name = (obj.get("metadata") or {}).get("name")
        slices = [
            s
            for s in related.endpointslices
            if ((s.get("metadata") or {}).get("labels") or {}).get("kubernetes.io/service-name")
            == name
        ]
        return describe_service(obj, slices, ev, now)
    if plural == "endpoints":
        return describe_endpoints(obj, ev, now)
    if plural == "nodes":
        return describe_node(obj, related.pods, related.lease, ev, now)
    if plural == "configmaps":
        return describe_configmap(obj, ev, now)
    if plural == "serviceaccounts":
        return describe_serviceaccount(obj, ev, now)
    if plural == "persistentvolumeclaims":
        return describe_pvc(obj, related.pods, ev, now)
    if plural == "resourcequotas":
        return describe_quota(obj, ev, now)
    if plural == "limitranges":
        return describe_limitrange(obj, ev, now)
    if plural == "networkpolicies":
        return describe_netpol(obj, ev, now)
    if plural == "namespaces":
        return describe_namespace(obj, related.quotas, related.limitranges, now)
    return describe_generic(obj, ev, now)
