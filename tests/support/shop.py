"""Real problems staged on the real test control plane (kube-apiserver, controller-
manager, scheduler, KWOK): what the end-to-end tests and `scripts/dev-cluster` use.

Each stage makes the API server hold exactly what a broken cluster holds: objects
created and changed by named field managers, pods whose status says what a kubelet
would write (KWOK nodes run no containers, so a crash loop is written the way a
kubelet reports one), and the Warning events a kubelet posts.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from nightshift.k8s.client import MERGE_PATCH, KubeApi, KubeError, resource_path

JSON = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Staged:
    """A staged fault and its ground truth: the object the fix applies to."""

    namespace: str
    question: str
    kind: str
    name: str
    fault: str


def post(api: KubeApi, path: str, body: JSON, manager: str) -> JSON:
    """Create as a named field manager (what `recent_changes` reports as the actor)."""
    return api.request("POST", path, body=body, query={"fieldManager": manager})


def patch(api: KubeApi, path: str, change: JSON, manager: str) -> JSON:
    return api.request("PATCH", path, body=change, content_type=MERGE_PATCH,
                       query={"fieldManager": manager})  # fmt: skip


def now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def ensure_namespace(api: KubeApi, name: str) -> None:
    try:
        api.create("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                          "metadata": {"name": name}})  # fmt: skip
    except KubeError as exc:
        if exc.status != 409:
            raise


def deployment(
    name: str, namespace: str, labels: Mapping[str, str], port: int = 8080, **pod: Any
) -> JSON:
    container: JSON = {"name": name, "image": f"registry.example/{name}:1.4.2",
                       "ports": [{"containerPort": port, "name": "http"}]}  # fmt: skip
    container.update(pod.pop("container", {}))
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(labels),
                     "annotations": {"kubernetes.io/change-cause": f"deploy {name} 1.4.2"}},
        "spec": {
            "replicas": pod.pop("replicas", 2),
            "selector": {"matchLabels": dict(labels)},
            "template": {"metadata": {"labels": dict(labels)},
                         "spec": {"containers": [container], **pod}},
        },
    }  # fmt: skip


def wait_pods(
    api: KubeApi, namespace: str, selector: str, count: int, timeout: float = 60
) -> list[JSON]:
    deadline = time.monotonic() + timeout
    pods: list[JSON] = []
    while time.monotonic() < deadline:
        pods = api.get(resource_path("v1", "pods", namespace), {"labelSelector": selector})["items"]
        running = [p for p in pods if p.get("status", {}).get("phase") == "Running"]
        if len(running) >= count:
            return running
        time.sleep(0.2)
    raise AssertionError(f"{count} running pods for {selector} in {namespace}; got {pods}")


def _event(api: KubeApi, pod: JSON, reason: str, message: str, count: int) -> None:
    meta = pod["metadata"]
    stamp = now()
    container = pod["spec"]["containers"][0]["name"]
    api.create(
        resource_path("v1", "events", meta["namespace"]),
        {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"generateName": f"{meta['name']}.", "namespace": meta["namespace"]},
            "involvedObject": {"kind": "Pod", "name": meta["name"], "namespace": meta["namespace"],
                               "uid": meta["uid"], "apiVersion": "v1",
                               "fieldPath": f"spec.containers{{{container}}}"},
            "reason": reason,
            "message": message,
            "type": "Warning",
            "count": count,
            "firstTimestamp": stamp,
            "lastTimestamp": stamp,
            "source": {"component": "kubelet", "host": pod["spec"].get("nodeName", "")},
        },
    )  # fmt: skip


def crash_loop(api: KubeApi, pod: JSON, *, exit_code: int = 1, restarts: int = 6) -> None:
    """Write the status a kubelet reports for a container in CrashLoopBackOff."""
    meta, name = pod["metadata"], pod["spec"]["containers"][0]["name"]
    started = now()
    status = {
        "phase": "Running",
        "conditions": [{"type": t, "status": s, "lastTransitionTime": started}
                       for t, s in (("Initialized", "True"), ("Ready", "False"),
                                    ("ContainersReady", "False"), ("PodScheduled", "True"))],
        "containerStatuses": [{
            "name": name, "image": pod["spec"]["containers"][0]["image"], "ready": False,
            "restartCount": restarts, "started": False,
            "state": {"waiting": {"reason": "CrashLoopBackOff",
                                  "message": f"back-off 5m0s restarting failed container={name} "
                                             f"pod={meta['name']}_{meta['namespace']}({meta['uid']})"}},
            "lastState": {"terminated": {"exitCode": exit_code, "reason": "Error",
                                         "startedAt": started, "finishedAt": started}},
        }],
    }  # fmt: skip
    path = resource_path("v1", "pods", meta["namespace"], meta["name"], "status")
    api.merge_patch(path, {"status": status})
    where = f"{meta['name']}_{meta['namespace']}({meta['uid']})"
    _event(api, pod, "BackOff", f"Back-off restarting failed container {name} in pod {where}",
           restarts)  # fmt: skip


def stage_config_crash_loop(api: KubeApi, namespace: str = "payments") -> Staged:
    """A Deployment whose pods crash-loop after a ConfigMap change broke its settings."""
    ensure_namespace(api, namespace)
    cm = "payments-config"
    post(api, resource_path("v1", "configmaps", namespace),
         {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": cm},
          "data": {"LEDGER_URL": "http://ledger:8080", "CURRENCY": "EUR"}}, "helm")  # fmt: skip
    env_from = {"envFrom": [{"configMapRef": {"name": cm}}]}
    post(
        api,
        resource_path("apps/v1", "deployments", namespace),
        deployment("payments", namespace, {"app": "payments"}, container=env_from),
        "helm",
    )
    pods = wait_pods(api, namespace, "app=payments", 2)
    # The change: a person edits the ConfigMap; the pods restart into the bad value.
    patch(
        api,
        resource_path("v1", "configmaps", namespace, cm),
        {"data": {"LEDGER_URL": "ledger:8080", "CURRENCY": "EUR"}},
        "kubectl-edit",
    )
    for pod in pods:
        crash_loop(api, pod)
    return Staged(namespace, "payments pods keep restarting", "ConfigMap", cm,
                  "config-change-regression")  # fmt: skip


def stage_selector_mismatch(api: KubeApi, namespace: str = "storefront") -> Staged:
    """A Service whose selector matches no pod: it has no endpoints."""
    ensure_namespace(api, namespace)
    post(
        api,
        resource_path("apps/v1", "deployments", namespace),
        deployment("cart", namespace, {"app": "cart", "tier": "web"}),
        "helm",
    )
    wait_pods(api, namespace, "app=cart", 2)
    post(api, resource_path("v1", "services", namespace),
         {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "cart"},
          "spec": {"selector": {"app": "cart-v2"},
                   "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}},
         "helm")  # fmt: skip
    return Staged(namespace, "the cart service returns 503 for every request", "Service",
                  "cart", "service-selector-mismatch")  # fmt: skip
