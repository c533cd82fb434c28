"""Capture what kubectl 1.37 prints for a set of objects, with the objects beside it.

Run by ``scripts/dev/capture-kubectl-goldens``: starts the test control plane
(tests/integration/k8s/cluster.py), creates the objects below, drives some pod
statuses the way a kubelet would (through the status subresource; KWOK leaves
pods alone once they are no longer Pending), then for every command writes
``NAME.txt`` (kubectl's stdout) into tests/unit/k8s/golden/, and once
``capture.json``: the capture time, each command's argv and every API object
the printers need.
tests/unit/k8s/test_kubectl_goldens.py renders the JSON with our printers and
compares.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.corpus.kubectl_bin import kubectl
from nightshift.k8s.client import KubeApi, KubeError, resource_path
from tests.integration.k8s.cluster import ControlPlane, running_control_plane

NS = "golden"
OUT = Path(__file__).resolve().parents[2] / "tests/unit/k8s/golden"
Obj = dict[str, Any]

# plural -> (apiVersion, namespaced)
PLURALS: dict[str, tuple[str, bool]] = {
    "pods": ("v1", True),
    "deployments": ("apps/v1", True),
    "replicasets": ("apps/v1", True),
    "statefulsets": ("apps/v1", True),
    "daemonsets": ("apps/v1", True),
    "jobs": ("batch/v1", True),
    "services": ("v1", True),
    "endpoints": ("v1", True),
    "endpointslices": ("discovery.k8s.io/v1", True),
    "configmaps": ("v1", True),
    "serviceaccounts": ("v1", True),
    "persistentvolumeclaims": ("v1", True),
    "resourcequotas": ("v1", True),
    "limitranges": ("v1", True),
    "networkpolicies": ("networking.k8s.io/v1", True),
    "events": ("v1", True),
    "nodes": ("v1", False),
    "namespaces": ("v1", False),
    "leases": ("coordination.k8s.io/v1", True),
}


def ago(seconds: int) -> str:
    return (datetime.now(UTC) - timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _container(name: str, image: str, **extra: Any) -> Obj:
    return {"name": name, "image": image, **extra}


def deployment(name: str, labels: dict[str, str], spec: Obj, replicas: int = 1) -> Obj:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": spec},
        },
    }


WEB_SPEC: Obj = {
    "containers": [
        _container(
            "app",
            "registry.example.com/shop/web:1.4.2",
            ports=[
                {"containerPort": 8080, "name": "http"},
                {"containerPort": 9090, "name": "metrics"},
            ],
            env=[
                {"name": "MODE", "value": "production"},
                {
                    "name": "DB_HOST",
                    "valueFrom": {"configMapKeyRef": {"name": "web-config", "key": "db_host"}},
                },
                {
                    "name": "DB_PASSWORD",
                    "valueFrom": {"secretKeyRef": {"name": "web-secret", "key": "password"}},
                },
            ],
            envFrom=[{"configMapRef": {"name": "web-config"}}],
            resources={
                "requests": {"cpu": "100m", "memory": "128Mi"},
                "limits": {"cpu": "500m", "memory": "256Mi"},
            },
            livenessProbe={"httpGet": {"path": "/healthz", "port": 8080}, "periodSeconds": 10},
            readinessProbe={"tcpSocket": {"port": "http"}, "initialDelaySeconds": 5},
            volumeMounts=[
                {"name": "config", "mountPath": "/etc/web", "readOnly": True},
                {"name": "scratch", "mountPath": "/tmp"},
            ],
        ),
        _container(
            "sidecar",
            "busybox:1.36",
            command=["sh", "-c"],
            args=["while true; do sleep 30; done"],
            startupProbe={"exec": {"command": ["cat", "/tmp/ready"]}, "failureThreshold": 30},
        ),
    ],
    "volumes": [
        {"name": "config", "configMap": {"name": "web-config"}},
        {"name": "scratch", "emptyDir": {}},
    ],
}


def objects() -> list[tuple[str, Obj]]:
    """(plural, body) in creation order."""
    cfg = {"db_host": "postgres.golden.svc", "LOG_LEVEL": "info"}
    out: list[tuple[str, Obj]] = [
        ("configmaps", {"metadata": {"name": "web-config"}, "data": cfg}),
        ("secrets", {"metadata": {"name": "web-secret"}, "stringData": {"password": "x"}}),
        ("serviceaccounts", {"metadata": {"name": "batch-runner"}}),
        ("deployments", deployment("web", {"app": "web", "tier": "frontend"}, WEB_SPEC, 2)),
        (
            "deployments",
            deployment(
                "worker",
                {"app": "worker"},
                {
                    "serviceAccountName": "batch-runner",
                    "nodeSelector": {"disktype": "ssd"},
                    "tolerations": [
                        {
                            "key": "dedicated",
                            "operator": "Equal",
                            "value": "batch",
                            "effect": "NoSchedule",
                        }
                    ],
                    "containers": [_container("worker", "registry.example.com/worker:2.0")],
                },
            ),
        ),
        (
            "services",
            {
                "metadata": {"name": "web", "labels": {"app": "web"}},
                "spec": {
                    "selector": {"app": "web"},
                    "ports": [
                        {"name": "http", "port": 80, "targetPort": "http"},
                        {"name": "metrics", "port": 9090, "targetPort": 9090},
                    ],
                },
            },
        ),
        (
            "services",
            {
                "metadata": {"name": "orders"},
                "spec": {
                    "type": "NodePort",
                    "selector": {"app": "orders"},
                    "ports": [{"port": 8080, "targetPort": 8081, "protocol": "TCP"}],
                },
            },
        ),
        (
            "services",
            {
                "metadata": {"name": "db"},
                "spec": {"clusterIP": "None", "selector": {"app": "db"}, "ports": [{"port": 5432}]},
            },
        ),
        (
            "statefulsets",
            {
                "metadata": {"name": "db"},
                "spec": {
                    "serviceName": "db",
                    "replicas": 1,
                    "selector": {"matchLabels": {"app": "db"}},
                    "template": {
                        "metadata": {"labels": {"app": "db"}},
                        "spec": {
                            "containers": [
                                _container(
                                    "postgres", "postgres:16", ports=[{"containerPort": 5432}]
                                )
                            ]
                        },
                    },
                },
            },
        ),
        (
            "daemonsets",
            {
                "metadata": {"name": "agent"},
                "spec": {
                    "selector": {"matchLabels": {"app": "agent"}},
                    "template": {
                        "metadata": {"labels": {"app": "agent"}},
                        "spec": {
                            "nodeSelector": {"type": "kwok"},
                            "tolerations": [{"operator": "Exists"}],
                            "containers": [_container("agent", "registry.example.com/agent:0.9")],
                        },
                    },
                },
            },
        ),
        (
            "jobs",
            {
                "metadata": {"name": "migrate"},
                "spec": {
                    "backoffLimit": 2,
                    "template": {
                        "spec": {
                            "restartPolicy": "Never",
                            "containers": [_container("migrate", "registry.example.com/migrate:7")],
                        }
                    },
                },
            },
        ),
        (
            "pods",
            {
                "metadata": {"name": "init-demo", "labels": {"app": "init-demo"}},
                "spec": {
                    "initContainers": [
                        _container(
                            "wait-db",
                            "busybox:1.36",
                            command=["sh", "-c", "until nc -z db 5432; do sleep 1; done"],
                        )
                    ],
                    "containers": [_container("main", "registry.example.com/main:1.0")],
                },
            },
        ),
        (
            "pods",
            {
                "metadata": {"name": "crasher", "labels": {"app": "crasher"}},
                "spec": {"containers": [_container("app", "registry.example.com/crasher:3.1")]},
            },
        ),
        (
            "pods",
            {
                "metadata": {"name": "puller", "labels": {"app": "puller"}},
                "spec": {"containers": [_container("app", "registry.example.com/missing:0.0.1")]},
            },
        ),
        (
            "pods",
            {
                "metadata": {"name": "init-oom", "labels": {"app": "init-oom"}},
                "spec": {
                    "initContainers": [_container("init", "busybox:1.36")],
                    "containers": [_container("main", "registry.example.com/main:1.0")],
                },
            },
        ),
        (
            "persistentvolumeclaims",
            {
                "metadata": {"name": "data"},
                "spec": {
                    "accessModes": ["ReadWriteOnce"],
                    "resources": {"requests": {"storage": "5Gi"}},
                    "storageClassName": "fast",
                },
            },
        ),
        (
            "resourcequotas",
            {
                "metadata": {"name": "compute"},
                "spec": {"hard": {"pods": "20", "requests.cpu": "4", "limits.memory": "8Gi"}},
            },
        ),
        (
            "limitranges",
            {
                "metadata": {"name": "defaults"},
                "spec": {
                    "limits": [
                        {
                            "type": "Container",
                            "max": {"cpu": "2", "memory": "2Gi"},
                            "defaultRequest": {"cpu": "100m", "memory": "128Mi"},
                            "default": {"cpu": "500m", "memory": "256Mi"},
                        }
                    ]
                },
            },
        ),
        (
            "networkpolicies",
            {
                "metadata": {"name": "db-ingress"},
                "spec": {
                    "podSelector": {"matchLabels": {"app": "db"}},
                    "policyTypes": ["Ingress"],
                    "ingress": [
                        {
                            "from": [{"podSelector": {"matchLabels": {"app": "web"}}}],
                            "ports": [{"port": 5432, "protocol": "TCP"}],
                        }
                    ],
                },
            },
        ),
        (
            "networkpolicies",
            {
                "metadata": {"name": "deny-egress"},
                "spec": {"podSelector": {}, "policyTypes": ["Egress"]},
            },
        ),
    ]
    return out


API_OF = {**{p: v for p, (v, _) in PLURALS.items()}, "secrets": "v1"}


def create_all(api: KubeApi) -> None:
    api.create("/api/v1/namespaces", {"metadata": {"name": NS, "labels": {"team": "shop"}}})
    for plural, body in objects():
        api.create(resource_path(API_OF[plural], plural, NS), body)


def drive_statuses(api: KubeApi) -> None:
    """What a kubelet would report for the failing pods (KWOK left them Running)."""

    def patch(name: str, status: Obj) -> None:
        path = resource_path("v1", "pods", NS, name) + "/status"
        api.request(
            "PATCH", path, body={"status": status}, content_type="application/merge-patch+json"
        )

    not_ready = [
        {
            "type": "Ready",
            "status": "False",
            "reason": "ContainersNotReady",
            "lastTransitionTime": ago(300),
        },
        {
            "type": "ContainersReady",
            "status": "False",
            "reason": "ContainersNotReady",
            "lastTransitionTime": ago(300),
        },
    ]
    patch(
        "crasher",
        {
            "conditions": not_ready,
            "containerStatuses": [
                {
                    "name": "app",
                    "image": "registry.example.com/crasher:3.1",
                    "imageID": "",
                    "ready": False,
                    "restartCount": 6,
                    "started": False,
                    "state": {
                        "waiting": {
                            "reason": "CrashLoopBackOff",
                            "message": "back-off 5m0s restarting failed container=app "
                            "pod=crasher_golden",
                        }
                    },
                    "lastState": {
                        "terminated": {
                            "exitCode": 1,
                            "reason": "Error",
                            "startedAt": ago(200),
                            "finishedAt": ago(190),
                        }
                    },
                }
            ],
        },
    )
    patch(
        "puller",
        {
            "conditions": not_ready,
            "containerStatuses": [
                {
                    "name": "app",
                    "image": "registry.example.com/missing:0.0.1",
                    "imageID": "",
                    "ready": False,
                    "restartCount": 0,
                    "started": False,
                    "state": {
                        "waiting": {
                            "reason": "ImagePullBackOff",
                            "message": "Back-off pulling image "
                            '"registry.example.com/missing:0.0.1"',
                        }
                    },
                }
            ],
        },
    )
    patch(
        "init-oom",
        {
            "phase": "Pending",
            "conditions": [
                {
                    "type": "Initialized",
                    "status": "False",
                    "reason": "ContainersNotInitialized",
                    "lastTransitionTime": ago(400),
                },
                *not_ready,
            ],
            "initContainerStatuses": [
                {
                    "name": "init",
                    "image": "busybox:1.36",
                    "imageID": "",
                    "ready": False,
                    "restartCount": 3,
                    "started": False,
                    "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                    "lastState": {
                        "terminated": {
                            "exitCode": 137,
                            "reason": "OOMKilled",
                            "startedAt": ago(100),
                            "finishedAt": ago(95),
                        }
                    },
                }
            ],
            "containerStatuses": [
                {
                    "name": "main",
                    "image": "registry.example.com/main:1.0",
                    "imageID": "",
                    "ready": False,
                    "restartCount": 0,
                    "started": False,
                    "state": {"waiting": {"reason": "PodInitializing"}},
                }
            ],
        },
    )
    crasher_uid = api.get(resource_path("v1", "pods", NS, "crasher"))["metadata"]["uid"]
    for i, (reason, count) in enumerate((("BackOff", 27), ("Pulling", 1))):
        api.create(
            resource_path("v1", "events", NS),
            {
                "metadata": {"name": f"crasher.golden{i}"},
                "involvedObject": {
                    "kind": "Pod",
                    "name": "crasher",
                    "namespace": NS,
                    "apiVersion": "v1",
                    "uid": crasher_uid,
                },
                "reason": reason,
                "message": "Back-off restarting failed container app in pod crasher_golden(abc)"
                if reason == "BackOff"
                else 'Pulling image "registry.example.com/crasher:3.1"',
                "type": "Warning" if reason == "BackOff" else "Normal",
                "count": count,
                "firstTimestamp": ago(1800),
                "lastTimestamp": ago(40 if count > 1 else 1800),
                "source": {"component": "kubelet", "host": "kwok-node-0"},
            },
        )


def prepare_nodes(api: KubeApi, nodes: list[str]) -> None:
    api.merge_patch(
        resource_path("v1", "nodes", None, nodes[1]),
        {
            "metadata": {"labels": {"node-role.kubernetes.io/control-plane": ""}},
            "spec": {
                "unschedulable": True,
                "taints": [
                    {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}
                ],
            },
        },
    )


def snapshot(api: KubeApi) -> dict[str, list[Obj]]:
    out: dict[str, list[Obj]] = {}
    for plural, (version, namespaced) in PLURALS.items():
        ns = NS if namespaced else None
        if plural == "leases":
            ns = "kube-node-lease"
        if plural == "events":  # node events live in "default"
            ns = None
        try:
            out[plural] = api.get(resource_path(version, plural, ns)).get("items", [])
        except KubeError:
            out[plural] = []
    return out


def _versions(snap: dict[str, list[Obj]]) -> dict[str, list[str]]:
    skip = {"leases", "events"}
    return {
        k: sorted(str(o["metadata"].get("resourceVersion")) for o in v)
        for k, v in snap.items()
        if k not in skip
    }


def commands(snap: dict[str, list[Obj]]) -> list[tuple[str, list[str]]]:
    cmds: list[tuple[str, list[str]]] = []
    listed = [p for p in PLURALS if p not in ("events", "leases", "endpointslices", "namespaces")]
    for plural in listed:
        ns_args = ["-n", NS] if PLURALS[plural][1] else []
        cmds.append((f"get-{plural}", ["get", plural, *ns_args]))
        cmds.append((f"get-{plural}-wide", ["get", plural, *ns_args, "-o", "wide"]))
    cmds.append(("get-pods-labels", ["get", "pods", "-n", NS, "--show-labels"]))
    cmds.append(("get-namespaces", ["get", "namespace", NS]))
    cmds.append(("events", ["events", "-n", NS]))
    cmds.append(("get-events", ["get", "events", "-n", NS]))
    cmds.append(("rollout-history-web", ["rollout", "history", "deployment/web", "-n", NS]))
    describe = [
        "pods", "deployments", "replicasets", "statefulsets", "daemonsets", "jobs", "services",
        "endpoints", "configmaps", "serviceaccounts", "persistentvolumeclaims", "resourcequotas",
        "limitranges", "networkpolicies", "nodes",
    ]  # fmt: skip
    for plural in describe:
        for obj in snap[plural]:
            name = obj["metadata"]["name"]
            if name == "kube-root-ca.crt":  # a fresh CA every run: noise in a golden
                continue
            ns_args = ["-n", NS] if PLURALS[plural][1] else []
            cmds.append((f"describe-{plural}-{name}", ["describe", plural, name, *ns_args]))
    cmds.append((f"describe-namespaces-{NS}", ["describe", "namespace", NS]))
    return cmds


def capture(cp: ControlPlane, out: Path) -> int:
    api = cp.admin()
    binary = str(kubectl())
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*"):
        old.unlink()
    written = 0
    for _ in range(3):
        before = snapshot(api)
        taken = datetime.now(UTC)
        results = []
        for name, argv in commands(before):
            run = subprocess.run(
                [binary, f"--kubeconfig={cp.kubeconfig}", *argv],
                capture_output=True,
                text=True,
                check=False,
            )
            results.append((name, argv, run.stdout if run.returncode == 0 else run.stderr))
        after = snapshot(api)
        if _versions(before) == _versions(after):
            break
        time.sleep(2)
    else:
        raise RuntimeError("the cluster kept changing while kubectl ran; nothing written")
    for name, _, text in results:
        (out / f"{name}.txt").write_text(text, encoding="utf-8")
        written += 1
    for items in after.values():
        for obj in items:
            obj.get("metadata", {}).pop("managedFields", None)
    record = {
        "captured_at": taken.isoformat(),
        "commands": {name: argv for name, argv, _ in results},
        "objects": after,
    }
    (out / "capture.json").write_text(
        json.dumps(record, sort_keys=True, indent=1), encoding="utf-8"
    )
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--settle", type=float, default=8.0, help="seconds for controllers")
    args = parser.parse_args(argv)
    with (
        tempfile.TemporaryDirectory(prefix="goldens-") as tmp,
        running_control_plane(Path(tmp), nodes=2) as cp,
    ):
        api = cp.admin()
        nodes = [n["metadata"]["name"] for n in api.get("/api/v1/nodes")["items"]]
        prepare_nodes(api, sorted(nodes))
        create_all(api)
        time.sleep(args.settle)
        drive_statuses(api)
        time.sleep(args.settle / 2)
        print(f"wrote {capture(cp, args.out)} goldens to {args.out}")
    return 0
