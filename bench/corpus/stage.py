# ruff: noqa: E501 - fault tables and kubelet messages read best one per line
"""Stage corpus cases on the real test control plane.

The control plane is tests/integration/k8s/cluster.py's (etcd, kube-apiserver,
kube-controller-manager, kube-scheduler, KWOK) with three additions to KWOK's
configuration: a node heartbeat (so nodes stay Ready for the whole run), the
corpus-kubelet stage that reports a pod's planned status instead of "Running"
(kube.py), and per-pod ClusterLogs for callers' logs.
"""

from __future__ import annotations

import contextlib
import secrets
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from bench.corpus.kube import STATUS, KubeletEvent, stamp
from bench.corpus.model import Case
from nightshift.k8s.client import KubeApi, KubeError, resource_path
from tests.integration.k8s import cluster

Obj = dict[str, Any]
WORKERS = 4
FAKE = {"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"}

HEARTBEAT = """apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: corpus-node-heartbeat
spec:
  resourceRef:
    apiGroup: v1
    kind: Node
  selector:
    matchExpressions:
    - key: '.status.conditions.[] | select( .type == "Ready" ) | .status'
      operator: 'In'
      values: ['True']
  delay:
    durationMilliseconds: 15000
    jitterDurationMilliseconds: 5000
  next:
    statusTemplate: |
      {{ $now := Now }}
      conditions:
      {{ range .status.conditions }}
      - lastHeartbeatTime: {{ $now | Quote }}
        lastTransitionTime: {{ .lastTransitionTime | Quote }}
        message: {{ .message | Quote }}
        reason: {{ .reason | Quote }}
        status: {{ .status | Quote }}
        type: {{ .type | Quote }}
      {{ end }}
"""

KUBELET = f"""apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: corpus-kubelet
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  selector:
    matchExpressions:
    - key: '.metadata.deletionTimestamp'
      operator: 'DoesNotExist'
    - key: '.metadata.annotations["{STATUS}"]'
      operator: 'Exists'
    - key: '.status.podIP'
      operator: 'DoesNotExist'
  next:
    statusTemplate: |
      {{{{ $podIPs := PodIPsWith .spec.nodeName ( or .spec.hostNetwork false ) ( or .metadata.uid "" ) ( or .metadata.name "" ) ( or .metadata.namespace "" ) }}}}
      {{{{ $hostIPs := NodeIPsWith .spec.nodeName }}}}
      {{{{ index .metadata.annotations "{STATUS}" }}}}
      hostIP: {{{{ index $hostIPs 0 | Quote }}}}
      hostIPs:
      - ip: {{{{ index $hostIPs 0 | Quote }}}}
      podIP: {{{{ index $podIPs 0 | Quote }}}}
      podIPs:
      - ip: {{{{ index $podIPs 0 | Quote }}}}
"""


def kwok_stages() -> str:
    """The test stages, with pod-ready leaving the corpus-kubelet pods alone."""
    docs = list(yaml.safe_load_all(cluster.STAGES.read_text()))
    for doc in docs:
        if doc["metadata"]["name"] == "pod-ready":
            doc["spec"]["selector"]["matchExpressions"].append(
                {"key": f'.metadata.annotations["{STATUS}"]', "operator": "DoesNotExist"}
            )
    return yaml.safe_dump_all(docs, sort_keys=False) + "---\n" + HEARTBEAT + "---\n" + KUBELET


class CorpusControlPlane(cluster.ControlPlane):
    logs: dict[tuple[str, str], str]

    def _kwok_config(self) -> Path:
        logdir = self.workdir / "corpus-logs"
        logdir.mkdir(exist_ok=True)
        parts = [kwok_stages()]
        base = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)
        for i, ((ns, pod), text) in enumerate(sorted(self.logs.items())):
            path = logdir / f"{i:04d}.log"
            lines = [
                f"{(base + timedelta(seconds=j * 7)).strftime('%Y-%m-%dT%H:%M:%S.%fZ')} "
                f"{'stderr' if 'ERROR' in line or 'FATAL' in line else 'stdout'} F {line}"
                for j, line in enumerate(text.splitlines())
            ]
            path.write_text("\n".join(lines) + "\n")
            parts.append(
                "apiVersion: kwok.x-k8s.io/v1alpha1\nkind: ClusterLogs\n"
                f"metadata:\n  name: corpus-logs-{i}\nspec:\n  selector:\n"
                f"    matchNamespaces: [{ns}]\n    matchNames: [{pod}]\n"
                f"  logs:\n  - containers: [app]\n    logsFile: {path}\n    previousLogsFile: {path}\n"
            )
        config = self.workdir / "kwok.yaml"
        config.write_text("\n---\n".join(p.rstrip("\n") for p in parts) + "\n")
        return config


@contextlib.contextmanager
def control_plane(workdir: Path, cases: list[Case]) -> Iterator[CorpusControlPlane]:
    cluster.SERVICE_CIDR = "10.96.0.0/16"  # room for every case's ClusterIPs
    cp = CorpusControlPlane(workdir, cluster.binaries())
    cp.logs = {(c.variant.ns, pod): text for c in cases for pod, text in c.built.plan.logs.items()}
    try:
        cp.start()
        prepare_cluster(cp.admin())
        yield cp
    finally:
        cp.stop()


def _node(name: str, labels: dict[str, str], managed: bool = True) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "annotations": dict(FAKE) if managed else {"node.alpha.kubernetes.io/ttl": "0"},
            "labels": {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", **labels},
        },
    }


CAPACITY = {"cpu": "64", "memory": "256Gi", "pods": "500", "ephemeral-storage": "200Gi"}


def _wait_ready(api: KubeApi, name: str, timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with contextlib.suppress(KubeError):
            node = api.get(resource_path("v1", "nodes", None, name))
            conds = {c["type"]: c["status"] for c in node.get("status", {}).get("conditions") or []}
            if conds.get("Ready") == "True":
                return
        time.sleep(0.2)
    raise RuntimeError(f"node {name} never became Ready")


def add_node(
    api: KubeApi, name: str, labels: dict[str, str], *, taint: bool = False, cordon: bool = False
) -> None:
    api.create("/api/v1/nodes", _node(name, labels))
    _wait_ready(api, name)
    path = resource_path("v1", "nodes", None, name)
    status_patch = {"status": {"capacity": CAPACITY, "allocatable": CAPACITY}}
    api.request(
        "PATCH", path + "/status", body=status_patch, content_type="application/merge-patch+json"
    )
    spec: Obj = {}
    if taint:
        spec["taints"] = [{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}]
    if cordon:
        spec["unschedulable"] = True
    if spec:
        api.merge_patch(path, {"spec": spec})


def prepare_cluster(api: KubeApi) -> None:
    zones = ["us-east-1a", "us-east-1b", "us-east-1c"]
    for i in range(WORKERS):
        labels = {"disktype": "ssd", "topology.kubernetes.io/zone": zones[i % 3], "pool": "general"}
        add_node(api, f"worker-{i}", labels)
    # A control-plane node that is cordoned and tainted, as in most clusters: not a fault.
    add_node(api, "control-plane-0", {"node-role.kubernetes.io/control-plane": ""}, cordon=True)
    path = resource_path("v1", "nodes", None, "control-plane-0")
    taint = {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}
    api.merge_patch(path, {"spec": {"taints": [taint]}})


def _path_for(obj: Obj, ns: str | None) -> str:
    api_version, kind = obj["apiVersion"], obj["kind"]
    plural = {
        "Deployment": "deployments",
        "StatefulSet": "statefulsets",
        "Service": "services",
        "ConfigMap": "configmaps",
        "Secret": "secrets",
        "ResourceQuota": "resourcequotas",
        "LimitRange": "limitranges",
        "PersistentVolumeClaim": "persistentvolumeclaims",
        "NetworkPolicy": "networkpolicies",
        "Job": "jobs",
        "ValidatingAdmissionPolicy": "validatingadmissionpolicies",
        "ValidatingAdmissionPolicyBinding": "validatingadmissionpolicybindings",
    }[kind]
    return resource_path(api_version, plural, ns)


def create_case(api: KubeApi, case: Case) -> list[str]:
    """Create the namespace and objects; returns the API server's refusals, as text."""
    plan, ns = case.built.plan, case.variant.ns
    labels = {"team": ns.rsplit("-", 1)[0], **plan.namespace_labels}
    api.create("/api/v1/namespaces", {"metadata": {"name": ns, "labels": labels}})
    for obj in plan.cluster_objects:
        api.create(_path_for(obj, None), obj)
    for node in plan.nodes:
        if not node.get("unmanaged"):
            add_node(
                api,
                node["name"],
                node["labels"],
                taint=node.get("taint", False),
                cordon=node.get("cordon", False),
            )
    refused = []
    for obj in plan.objects:
        try:
            api.create(_path_for(obj, ns), obj)
        except KubeError as exc:
            refused.append(f"{obj['kind']}/{obj['metadata']['name']}: {exc.message}")
    return refused


def apply_after(api: KubeApi, case: Case) -> None:
    for verb, body in case.built.plan.after:
        if verb == "patch":
            path = resource_path("apps/v1", "deployments", case.variant.ns, case.variant.app)
            api.merge_patch(path, body)


def _post(api: KubeApi, ns: str, involved: Obj, e: Obj, now: datetime) -> None:
    body = {
        "metadata": {"name": f"{involved['name']}.{secrets.token_hex(8)}", "namespace": ns},
        "involvedObject": involved,
        "reason": e["reason"],
        "message": e["message"],
        "type": e["type"],
        "count": e["count"],
        "firstTimestamp": stamp(now, e["first"]),
        "lastTimestamp": stamp(now, e["last"]),
        "source": e["source"],
        "reportingComponent": e["source"].get("component", ""),
    }
    api.create(resource_path("v1", "events", ns), body)


def stage_namespaced(api: KubeApi, cases: list[Case], settle: float) -> dict[str, list[str]]:
    """Namespaced cases side by side: create them, let the controllers react for
    ``settle`` seconds, apply each case's later changes, wait half as long again, then
    post the kubelet's events. Returns each case's refusals at creation, by case id."""
    refused = {c.id: create_case(api, c) for c in cases}
    time.sleep(settle)
    for c in cases:
        apply_after(api, c)
    time.sleep(settle / 2)
    for c in cases:
        post_events(api, c)
    return refused


def post_events(api: KubeApi, case: Case) -> None:
    """Kubelet events about each matching pod, and the planned history events."""
    plan, ns, now = case.built.plan, case.variant.ns, datetime.now(UTC)
    pods = api.get(resource_path("v1", "pods", ns)).get("items", [])
    for ev in plan.events:
        for pod in pods:
            if (pod["metadata"].get("labels") or {}).get("app") != ev.app:
                continue
            if not pod["spec"].get("nodeName"):
                continue
            _post_kubelet(api, ns, pod, ev, now)
    for raw in plan.raw_events:
        involved = {"kind": raw["kind"], "name": raw["name"], "namespace": raw.get("namespace", ns)}
        if raw["kind"] != "Node":
            involved["apiVersion"] = "apps/v1"
        else:
            node = api.get(resource_path("v1", "nodes", None, raw["name"]))
            involved.update({"apiVersion": "v1", "uid": node["metadata"]["uid"], "namespace": ""})
        e = {**raw, "source": {"component": raw["source"]}}
        _post(api, raw.get("namespace", ns), involved, e, now)


def _post_kubelet(api: KubeApi, ns: str, pod: Obj, ev: KubeletEvent, now: datetime) -> None:
    m = pod["metadata"]
    created = datetime.fromisoformat(m["creationTimestamp"].replace("Z", "+00:00"))
    age = max(int((now - created).total_seconds()), 1)
    first = min(ev.first, age)
    last = min(ev.last, max(first - 1, 0)) if ev.count > 1 else first
    involved = {
        "kind": "Pod",
        "name": m["name"],
        "namespace": ns,
        "uid": m["uid"],
        "apiVersion": "v1",
    }
    if ev.container:
        involved["fieldPath"] = f"spec.containers{{{ev.container}}}"
    msg = ev.message.format(
        pod=f"{m['name']}_{ns}({m['uid']})",
        ip=pod["status"].get("podIP", ""),
        node=pod["spec"]["nodeName"],
    )
    e = {
        "reason": ev.reason,
        "message": msg,
        "type": ev.type,
        "count": ev.count,
        "first": first,
        "last": last,
        "source": {"component": "kubelet", "host": pod["spec"]["nodeName"]},
    }
    _post(api, ns, involved, e, now)
