"""Pods and the workloads that own them as ``kubectl get -o yaml`` returns them:
metadata, the pod spec (containers, probes, env), and status as the kubelet
and the controllers report it. Also the metadata every other kind shares.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from nightshift.scenarios.clock import at, rfc3339
from nightshift.scenarios.cluster import (
    EVICTION_GRACE,
    container_ready,
    container_started,
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
from nightshift.scenarios.kube_model import (
    Container,
    ContainerStatus,
    LastState,
    Namespace,
    Node,
    Pod,
    PodTemplate,
    Probe,
    Workload,
)
from nightshift.scenarios.model import WorldState


def uid(seed: str) -> str:
    h = hashlib.sha256(seed.encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def object_meta(obj: Any, now: datetime, labels: dict[str, str] | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "name": obj.name,
        "creationTimestamp": rfc3339(at(now, obj.age)),
        "resourceVersion": str(int(hashlib.sha256(obj.name.encode()).hexdigest()[:6], 16)),
        "uid": uid(f"{getattr(obj, 'namespace', '')}/{obj.name}"),
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


def pod_spec(t: PodTemplate, images: dict[str, str] | None = None) -> dict[str, Any]:
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
    meta = object_meta(pod, now, pod_labels(state, pod))
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
                "uid": uid(pod.namespace + owner_name),
            }
        ]
    if evicted(state, pod):
        # the taint manager (or a user) deleted it; its kubelet never confirmed
        lost = node_lost_for(state, pod)
        gone = lost - EVICTION_GRACE if lost is not None and lost > EVICTION_GRACE else 30
        meta["deletionTimestamp"] = rfc3339(at(now, gone))
        meta["deletionGracePeriodSeconds"] = 30
    spec = pod_spec(t, {c.name: image_of(state, pod, c) for c in t.containers})
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
    meta = object_meta(w, now, w.labels)
    meta["annotations"] = {
        "deployment.kubernetes.io/revision": str(w.revisions[-1].revision if w.revisions else 1),
        **w.annotations,
    }
    spec: dict[str, Any] = {
        "replicas": w.replicas,
        "selector": {"matchLabels": w.selector or w.template.labels},
        "template": {
            "metadata": {"labels": dict(w.template.labels)},
            "spec": pod_spec(w.template),
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
