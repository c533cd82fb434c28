"""``kubectl get -o yaml``: the API object, keys sorted as kubectl prints them."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime
from typing import Any

import yaml

from nightshift.scenarios.clock import at, rfc3339
from nightshift.scenarios.cluster import (
    EVICTION_GRACE,
    ReplicaSetView,
    container_ready,
    container_started,
    endpoints,
    evicted,
    find_workload,
    image_of,
    node_lost_for,
    pod_labels,
    pod_ready,
    pod_template,
    statuses,
    workload_status,
)
from nightshift.scenarios.describe_other import node_conditions, node_taints
from nightshift.scenarios.kinds import Kind
from nightshift.scenarios.kube_model import (
    ConfigMap,
    Container,
    ContainerStatus,
    Event,
    Job,
    LastState,
    Namespace,
    NetworkPolicy,
    Node,
    PersistentVolumeClaim,
    Pod,
    PodTemplate,
    Probe,
    ResourceQuota,
    Secret,
    Service,
    Workload,
)
from nightshift.scenarios.model import WorldState
from nightshift.scenarios.render_get import node_labels


def _uid(seed: str) -> str:
    h = hashlib.sha256(seed.encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def _meta(obj: Any, now: datetime, labels: dict[str, str] | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "name": obj.name,
        "creationTimestamp": rfc3339(at(now, obj.age)),
        "resourceVersion": str(int(hashlib.sha256(obj.name.encode()).hexdigest()[:6], 16)),
        "uid": _uid(f"{getattr(obj, 'namespace', '')}/{obj.name}"),
    }
    if getattr(obj, "namespace", None) and not isinstance(obj, (Node, Namespace)):
        meta["namespace"] = obj.namespace
    if labels:
        meta["labels"] = dict(labels)
    return meta


def _probe(probe: Probe) -> dict[str, Any]:
    out: dict[str, Any] = {
        "initialDelaySeconds": probe.initial_delay,
        "periodSeconds": probe.period,
        "timeoutSeconds": probe.timeout,
        "successThreshold": probe.success,
        "failureThreshold": probe.failure,
    }
    if probe.type == "http-get":
        out["httpGet"] = {"path": probe.path, "port": probe.port, "scheme": probe.scheme.upper()}
    elif probe.type == "tcp-socket":
        out["tcpSocket"] = {"port": probe.port}
    elif probe.type == "grpc":
        out["grpc"] = {"port": probe.port, "service": ""}
    else:
        out["exec"] = {"command": list(probe.command)}
    return out


def _env(name: str, value: str) -> dict[str, Any]:
    for prefix, ref in (("secret:", "secretKeyRef"), ("configmap:", "configMapKeyRef")):
        if value.startswith(prefix):
            obj, _, key = value[len(prefix) :].partition("/")
            return {"name": name, "valueFrom": {ref: {"name": obj, "key": key}}}
    return {"name": name, "value": value}


def _container(c: Container, image: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": c.name,
        "image": image or c.image,
        "imagePullPolicy": "IfNotPresent",
        "resources": {
            k: dict(v)
            for k, v in (("requests", c.resources.requests), ("limits", c.resources.limits))
            if v
        },
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
    }
    if c.command:
        out["command"] = list(c.command)
    if c.args:
        out["args"] = list(c.args)
    if c.env:
        out["env"] = [_env(k, v) for k, v in c.env.items()]
    if c.env_from:
        out["envFrom"] = [
            {
                ("secretRef" if r.startswith("secret:") else "configMapRef"): {
                    "name": r.partition(":")[2]
                }
            }
            for r in c.env_from
        ]
    if c.ports:
        out["ports"] = [
            {
                "containerPort": p.port,
                "protocol": p.protocol,
                **({"name": p.name} if p.name else {}),
            }
            for p in c.ports
        ]
    for key, probe in (
        ("livenessProbe", c.liveness),
        ("readinessProbe", c.readiness),
        ("startupProbe", c.startup),
    ):
        if probe is not None:
            out[key] = _probe(probe)
    if c.mounts:
        out["volumeMounts"] = [
            {"mountPath": m.path, "name": m.volume, **({"readOnly": True} if m.read_only else {})}
            for m in c.mounts
        ]
    return out


def _pod_spec(t: PodTemplate, images: dict[str, str] | None = None) -> dict[str, Any]:
    images = images or {}
    spec: dict[str, Any] = {
        "containers": [_container(c, images.get(c.name)) for c in t.containers],
        "dnsPolicy": "ClusterFirst",
        "restartPolicy": "Always",
        "serviceAccountName": t.service_account,
        "terminationGracePeriodSeconds": 30,
    }
    if t.init_containers:
        spec["initContainers"] = [_container(c) for c in t.init_containers]
    if t.node_selector:
        spec["nodeSelector"] = dict(t.node_selector)
    if t.tolerations:
        spec["tolerations"] = [
            {
                k: v
                for k, v in (
                    ("key", x.key),
                    ("operator", x.operator),
                    ("value", x.value),
                    ("effect", x.effect),
                    ("tolerationSeconds", x.seconds),
                )
                if v
            }
            for x in t.tolerations
        ]
    if t.image_pull_secrets:
        spec["imagePullSecrets"] = [{"name": n} for n in t.image_pull_secrets]
    if t.volumes:
        key = {
            "configmap": "configMap",
            "secret": "secret",
            "pvc": "persistentVolumeClaim",
            "emptydir": "emptyDir",
            "hostpath": "hostPath",
        }
        field = {
            "configmap": "name",
            "secret": "secretName",
            "pvc": "claimName",
            "hostpath": "path",
        }
        spec["volumes"] = [
            {"name": v.name, key[v.type]: ({field[v.type]: v.source} if v.type in field else {})}
            for v in t.volumes
        ]
    return spec


def _state(st: ContainerStatus | LastState, now: datetime, pod_age: int = 0) -> dict[str, Any]:
    if isinstance(st, LastState) or st.state == "terminated":
        term: dict[str, Any] = {
            "exitCode": st.exit_code if st.exit_code is not None else 1,
            "reason": st.reason or "Error",
        }
        if st.started is not None:
            term["startedAt"] = rfc3339(at(now, st.started))
        if st.finished is not None:
            term["finishedAt"] = rfc3339(at(now, st.finished))
        if st.message:
            term["message"] = st.message
        return {"terminated": term}
    if st.state == "waiting":
        wait = {k: v for k, v in (("reason", st.reason), ("message", st.message)) if v}
        return {"waiting": wait}
    return {"running": {"startedAt": rfc3339(at(now, container_started(st, pod_age)))}}


def pod_yaml(state: WorldState, pod: Pod, now: datetime) -> dict[str, Any]:
    t = pod_template(state, pod)
    meta = _meta(pod, now, pod_labels(state, pod))
    workload = find_workload(state, pod.namespace, pod.owner)
    if workload is not None:
        owner_kind = "ReplicaSet" if workload.kind == "Deployment" else workload.kind
        owner_name = workload.name
        if workload.kind == "Deployment":
            owner_name += "-" + meta["labels"].get("pod-template-hash", "")
        meta["ownerReferences"] = [
            {
                "apiVersion": "apps/v1",
                "kind": owner_kind,
                "name": owner_name,
                "controller": True,
                "blockOwnerDeletion": True,
                "uid": _uid(pod.namespace + owner_name),
            }
        ]
    if evicted(state, pod):
        # the taint manager (or a user) deleted it; its kubelet never confirmed
        lost = node_lost_for(state, pod)
        gone = lost - EVICTION_GRACE if lost is not None and lost > EVICTION_GRACE else 30
        meta["deletionTimestamp"] = rfc3339(at(now, gone))
        meta["deletionGracePeriodSeconds"] = 30
    spec = _pod_spec(t, {c.name: image_of(state, pod, c) for c in t.containers})
    if pod.node:
        spec["nodeName"] = pod.node
    ready = str(pod_ready(state, pod))
    status: dict[str, Any] = {"phase": pod.phase, "qosClass": "Burstable"}
    if pod.node:
        status["startTime"] = rfc3339(at(now, pod.age))
        status["conditions"] = [
            {"type": c, "status": s, "lastTransitionTime": rfc3339(at(now, pod.age))}
            for c, s in (
                ("Initialized", "True"),
                ("Ready", ready),
                ("ContainersReady", ready),
                ("PodScheduled", "True"),
            )
        ]
        status["hostIP"] = next((n.internal_ip for n in state.nodes if n.name == pod.node), None)
    else:
        status["conditions"] = [
            {
                "type": "PodScheduled",
                "status": "False",
                "reason": "Unschedulable",
                "message": pod.unschedulable_message or "",
            }
        ]
    if pod.ip:
        status["podIP"] = pod.ip
        status["podIPs"] = [{"ip": pod.ip}]
    if pod.reason:
        status["reason"] = pod.reason
    if pod.message:
        status["message"] = pod.message
    status["containerStatuses"] = [
        {
            "name": st.name,
            "image": image_of(state, pod, c),
            "ready": container_ready(st),
            "restartCount": st.restarts,
            "started": st.state == "running",
            "state": _state(st, now, pod.age),
            "lastState": _state(st.last_state, now) if st.last_state else {},
        }
        for st, c in zip(statuses(state, pod), t.containers, strict=False)
    ]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec, "status": status}


def workload_yaml(state: WorldState, w: Workload, now: datetime) -> dict[str, Any]:
    st = workload_status(state, w)
    meta = _meta(w, now, w.labels)
    meta["annotations"] = {
        "deployment.kubernetes.io/revision": str(w.revisions[-1].revision if w.revisions else 1),
        **w.annotations,
    }
    spec: dict[str, Any] = {
        "replicas": w.replicas,
        "selector": {"matchLabels": w.selector or w.template.labels},
        "template": {
            "metadata": {"labels": dict(w.template.labels)},
            "spec": _pod_spec(w.template),
        },
    }
    status = {
        "replicas": st.total,
        "readyReplicas": st.ready,
        "updatedReplicas": st.updated,
        "availableReplicas": st.available,
        "observedGeneration": 1,
    }
    return {
        "apiVersion": "apps/v1",
        "kind": w.kind,
        "metadata": meta,
        "spec": spec,
        "status": {k: v for k, v in status.items() if v},
    }


def _replicaset_yaml(_world: WorldState, obj: ReplicaSetView, now: datetime) -> dict[str, Any]:
    meta = {"name": obj.name, "namespace": obj.namespace, "labels": obj.selector}
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": meta,
        "spec": {
            "replicas": obj.desired,
            "selector": {"matchLabels": obj.selector},
            "template": {"spec": _pod_spec(obj.template)},
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
        "metadata": _meta(obj, now, obj.labels),
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
        "metadata": _meta(obj, now, node_labels(obj)),
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
        "metadata": _meta(obj, now),
        "data": dict(obj.data),
    }


def _secret_yaml(_world: WorldState, obj: Secret, now: datetime) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": _meta(obj, now),
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
        "metadata": _meta(obj, now),
        "spec": spec,
        "status": {"phase": obj.status},
    }


def _job_yaml(_world: WorldState, obj: Job, now: datetime) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": _meta(obj, now),
        "spec": {
            "backoffLimit": obj.backoff_limit,
            "completions": obj.completions,
            **({"template": {"spec": _pod_spec(obj.template)}} if obj.template else {}),
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
        "metadata": _meta(obj, now),
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
        "metadata": _meta(obj, now),
        "spec": {"hard": obj.hard},
        "status": {"hard": obj.hard, "used": obj.used},
    }


def _namespace_yaml(_world: WorldState, obj: Namespace, now: datetime) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": _meta(obj, now, {"kubernetes.io/metadata.name": obj.name, **obj.labels}),
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
        "metadata": _meta(svc, now, svc.labels),
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
