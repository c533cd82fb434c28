"""``kubectl get -o yaml``: the API object, keys sorted as kubectl prints them.

Pods and workloads are built in yaml_workloads.py; the other kinds here.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import yaml

from nightshift.scenarios.clock import at, rfc3339
from nightshift.scenarios.cluster import (
    ReplicaSetView,
    endpoints,
)
from nightshift.scenarios.describe_other import node_conditions, node_taints
from nightshift.scenarios.kinds import Kind
from nightshift.scenarios.kube_model import (
    ConfigMap,
    Event,
    Job,
    Namespace,
    NetworkPolicy,
    Node,
    PersistentVolumeClaim,
    Pod,
    ResourceQuota,
    Secret,
    Service,
    Workload,
)
from nightshift.scenarios.model import WorldState
from nightshift.scenarios.render_get import node_labels
from nightshift.scenarios.yaml_workloads import object_meta, pod_spec, pod_yaml, workload_yaml


def _replicaset_yaml(_world: WorldState, obj: ReplicaSetView, now: datetime) -> dict[str, Any]:
    meta = {"name": obj.name, "namespace": obj.namespace, "labels": obj.selector}
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": meta,
        "spec": {
            "replicas": obj.desired,
            "selector": {"matchLabels": obj.selector},
            "template": {"spec": pod_spec(obj.template)},
        },
        "status": {"replicas": obj.current, "readyReplicas": obj.ready},
    }


def _service_yaml(_world: WorldState, obj: Service, now: datetime) -> dict[str, Any]:
    ports = [
        {
            k: v
            for k, v in (
                ("name", p.name),
                ("port", p.port),
                ("protocol", p.protocol),
                ("targetPort", p.target_port or p.port),
                ("nodePort", p.node_port),
            )
            if v is not None
        }
        for p in obj.ports
    ]
    spec: dict[str, Any] = {
        "type": obj.type,
        "ports": ports,
        "clusterIP": obj.cluster_ip,
        "sessionAffinity": "None",
    }
    if obj.selector:
        spec["selector"] = dict(obj.selector)
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": object_meta(obj, now, obj.labels),
        "spec": spec,
        "status": {"loadBalancer": {}},
    }


def _node_yaml(_world: WorldState, obj: Node, now: datetime) -> dict[str, Any]:
    spec: dict[str, Any] = {"podCIDR": "10.244.0.0/24"}
    taints = node_taints(obj)
    if taints:
        spec["taints"] = [
            {"key": t.split(":")[0].split("=")[0], "effect": t.split(":")[-1]} for t in taints
        ]
    if obj.unschedulable:
        spec["unschedulable"] = True
    conds = [
        {
            "type": c.type,
            "status": c.status,
            "reason": c.reason,
            "message": c.message,
            "lastTransitionTime": rfc3339(at(now, c.since)),
        }
        for c in node_conditions(obj)
    ]
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": object_meta(obj, now, node_labels(obj)),
        "spec": spec,
        "status": {
            "capacity": obj.capacity,
            "allocatable": obj.allocatable or obj.capacity,
            "conditions": conds,
            "addresses": [
                {"type": "InternalIP", "address": obj.internal_ip},
                {"type": "Hostname", "address": obj.name},
            ],
            "nodeInfo": {
                "kubeletVersion": obj.version,
                "osImage": obj.os_image,
                "kernelVersion": obj.kernel,
                "containerRuntimeVersion": obj.runtime,
            },
        },
    }


def _configmap_yaml(_world: WorldState, obj: ConfigMap, now: datetime) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": object_meta(obj, now),
        "data": dict(obj.data),
    }


def _secret_yaml(_world: WorldState, obj: Secret, now: datetime) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": object_meta(obj, now),
        "type": obj.type,
        "data": {k: "KioqKioqKio=" for k in obj.keys},
    }


def _pvc_yaml(_world: WorldState, obj: PersistentVolumeClaim, now: datetime) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "accessModes": list(obj.access_modes),
        "storageClassName": obj.storage_class,
        "resources": {"requests": {"storage": obj.capacity}},
        "volumeMode": "Filesystem",
    }
    if obj.volume:
        spec["volumeName"] = obj.volume
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": object_meta(obj, now),
        "spec": spec,
        "status": {"phase": obj.status},
    }


def _job_yaml(_world: WorldState, obj: Job, now: datetime) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": object_meta(obj, now),
        "spec": {
            "backoffLimit": obj.backoff_limit,
            "completions": obj.completions,
            **({"template": {"spec": pod_spec(obj.template)}} if obj.template else {}),
        },
        "status": {
            k: v
            for k, v in (
                ("active", obj.active),
                ("failed", obj.failed),
                ("succeeded", obj.succeeded),
            )
            if v
        },
    }


def _netpol_yaml(_world: WorldState, obj: NetworkPolicy, now: datetime) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": object_meta(obj, now),
        "spec": {
            "podSelector": {"matchLabels": obj.pod_selector} if obj.pod_selector else {},
            "policyTypes": list(obj.policy_types),
            **{
                d: [p.model_dump(exclude_none=True) for p in rules]
                for d, rules in (("ingress", obj.ingress), ("egress", obj.egress))
                if rules
            },
        },
    }


def _quota_yaml(_world: WorldState, obj: ResourceQuota, now: datetime) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": object_meta(obj, now),
        "spec": {"hard": obj.hard},
        "status": {"hard": obj.hard, "used": obj.used},
    }


def _namespace_yaml(_world: WorldState, obj: Namespace, now: datetime) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": object_meta(obj, now, {"kubernetes.io/metadata.name": obj.name, **obj.labels}),
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": obj.status},
    }


def _event_yaml(_world: WorldState, obj: Event, now: datetime) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "type": obj.type,
        "reason": obj.reason,
        "message": obj.message,
        "count": obj.count,
        "involvedObject": {"kind": obj.kind, "name": obj.name, "namespace": obj.namespace},
        "source": {"component": obj.source},
        "lastTimestamp": rfc3339(at(now, obj.last_seen)),
    }


_YAML: tuple[tuple[type[Any], Callable[[WorldState, Any, datetime], dict[str, Any]]], ...] = (
    (Pod, pod_yaml),
    (Workload, workload_yaml),
    (ReplicaSetView, _replicaset_yaml),
    (Service, _service_yaml),
    (Node, _node_yaml),
    (ConfigMap, _configmap_yaml),
    (Secret, _secret_yaml),
    (PersistentVolumeClaim, _pvc_yaml),
    (Job, _job_yaml),
    (NetworkPolicy, _netpol_yaml),
    (ResourceQuota, _quota_yaml),
    (Namespace, _namespace_yaml),
    (Event, _event_yaml),
)


def _object_yaml(state: WorldState, obj: Any, now: datetime) -> dict[str, Any]:
    for kind, render in _YAML:
        if isinstance(obj, kind):
            return render(state, obj, now)
    return {"kind": type(obj).__name__, "metadata": {"name": getattr(obj, "name", "")}}


def endpoints_yaml(state: WorldState, svc: Service, now: datetime) -> dict[str, Any]:
    addrs = endpoints(state, svc)
    subset: dict[str, Any] = {"ports": [{"port": a.port, "protocol": "TCP"} for a in addrs[:1]]}
    ready = [{"ip": a.ip, "nodeName": a.node} for a in addrs if a.ready]
    not_ready = [{"ip": a.ip, "nodeName": a.node} for a in addrs if not a.ready]
    if ready:
        subset["addresses"] = ready
    if not_ready:
        subset["notReadyAddresses"] = not_ready
    body: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Endpoints",
        "metadata": object_meta(svc, now, svc.labels),
    }
    if addrs:
        body["subsets"] = [subset]
    return body


def api_object(state: WorldState, kind: Kind, obj: Any, now: datetime) -> dict[str, Any]:
    """The API object a real cluster would return for this world object."""
    if kind.name == "Endpoints":
        return endpoints_yaml(state, obj, now)
    return _object_yaml(state, obj, now)


def render_yaml(
    state: WorldState, kind: Kind, items: list[Any], now: datetime, single: bool
) -> str:
    docs = [api_object(state, kind, o, now) for o in items]
    body: dict[str, Any] = (
        docs[0]
        if single and docs
        else {
            "apiVersion": "v1",
            "items": docs,
            "kind": "List",
            "metadata": {"resourceVersion": ""},
        }
    )
    return yaml.safe_dump(body, sort_keys=True, default_flow_style=False).rstrip("\n")
