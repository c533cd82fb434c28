"""Small builders for the API objects a corpus case creates, and the kubelet's part.

KWOK has no kubelet: it moves pods through the stages in kwok-stages. For a
failing container the corpus writes the status a kubelet would report
(waiting/terminated reasons, exit codes, restart counts, readiness) into the
pod template's ``corpus.nightshift.dev/status`` annotation; the
``corpus-kubelet`` stage (stages.py) copies it into the pod's status when the
pod lands on a KWOK node. Kubelet events (BackOff, Unhealthy, Failed pulls)
are posted through the events API the way a kubelet posts them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import yaml

Obj = dict[str, Any]
STATUS = "corpus.nightshift.dev/status"


def stamp(now: datetime, ago: int) -> str:
    return (now - timedelta(seconds=ago)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def container(name: str, image: str, port: int | None = None, **extra: Any) -> Obj:
    c: Obj = {"name": name, "image": image, **extra}
    if port is not None:
        c.setdefault("ports", [{"containerPort": port, "name": "http", "protocol": "TCP"}])
    c.setdefault(
        "resources",
        {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"memory": "256Mi"}},
    )
    return c


def pod_spec(containers: list[Obj], **extra: Any) -> Obj:
    return {"containers": containers, **extra}


def template(labels: dict[str, str], spec: Obj, annotations: dict[str, str] | None = None) -> Obj:
    meta: Obj = {"labels": labels}
    if annotations:
        meta["annotations"] = annotations
    return {"metadata": meta, "spec": spec}


def deployment(name: str, spec: Obj, replicas: int = 1, ann: dict[str, str] | None = None) -> Obj:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": template(labels, spec, ann),
        },
    }


def statefulset(name: str, spec: Obj, ann: dict[str, str] | None = None) -> Obj:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "replicas": 1,
            "serviceName": name,
            "selector": {"matchLabels": labels},
            "template": template(labels, spec, ann),
        },
    }


def service(
    name: str,
    selector: dict[str, str],
    port: int,
    target: int | str,
    ip: str | None = None,
    protocol: str = "TCP",
) -> Obj:
    spec: Obj = {
        "selector": selector,
        "ports": [{"name": "http", "port": port, "targetPort": target, "protocol": protocol}],
    }
    if ip:
        spec["clusterIP"] = ip
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name}, "spec": spec}


@dataclass(frozen=True)
class State:
    """One container as the kubelet reports it."""

    name: str
    image: str
    state: Obj
    last: Obj | None = None
    restarts: int = 0
    ready: bool = False
    started: bool = False


def running(now: datetime, ago: int = 45) -> Obj:
    return {"running": {"startedAt": stamp(now, ago)}}


def waiting(reason: str, message: str = "") -> Obj:
    w: Obj = {"reason": reason}
    if message:
        w["message"] = message
    return {"waiting": w}


def terminated(now: datetime, reason: str, code: int, ran: int = 10, ago: int = 25) -> Obj:
    return {
        "terminated": {
            "reason": reason,
            "exitCode": code,
            "startedAt": stamp(now, ago + ran),
            "finishedAt": stamp(now, ago),
        }
    }


def kubelet_status(
    now: datetime,
    containers: list[State],
    *,
    init: list[State] | None = None,
    phase: str = "Running",
    age: int = 55,
) -> dict[str, str]:
    """The template annotation that makes the corpus-kubelet stage report this status."""

    def one(s: State) -> Obj:
        out: Obj = {
            "name": s.name,
            "image": s.image,
            "imageID": "",
            "ready": s.ready,
            "restartCount": s.restarts,
            "started": s.started,
            "state": s.state,
        }
        if s.last:
            out["lastState"] = s.last
        return out

    all_ready = all(s.ready for s in containers)
    inits_done = all(
        "terminated" in s.state and s.state["terminated"]["exitCode"] == 0 for s in init or []
    )
    t = stamp(now, age)

    def cond(kind: str, ok: bool, reason: str = "") -> Obj:
        c: Obj = {"type": kind, "status": "True" if ok else "False", "lastTransitionTime": t}
        if not ok and reason:
            c["reason"] = reason
        return c

    status: Obj = {
        "phase": phase,
        "startTime": t,
        "conditions": [
            cond("PodReadyToStartContainers", True),
            cond("Initialized", inits_done, "ContainersNotInitialized"),
            cond("Ready", all_ready and inits_done, "ContainersNotReady"),
            cond("ContainersReady", all_ready and inits_done, "ContainersNotReady"),
            cond("PodScheduled", True),
        ],
        "containerStatuses": [one(s) for s in containers],
    }
    if init:
        status["initContainerStatuses"] = [one(s) for s in init]
    return {STATUS: yaml.safe_dump(status, default_flow_style=False, sort_keys=False)}


@dataclass(frozen=True)
class KubeletEvent:
    """An event a kubelet would post about each pod matching ``app``.

    ``first``/``last`` are seconds before posting, capped at the pod's age: a
    kubelet cannot have reported on a pod before it existed.
    """

    app: str
    reason: str
    message: str  # may use {pod}, {ip}, {node}
    type: str = "Warning"
    count: int = 1
    first: int = 600
    last: int = 30
    container: str | None = None


@dataclass
class Plan:
    """Everything one case creates, in order, and what happens after."""

    objects: list[Obj] = field(default_factory=list)  # created in order; failures recorded
    events: list[KubeletEvent] = field(default_factory=list)
    raw_events: list[Obj] = field(default_factory=list)  # events about other objects (history)
    logs: dict[str, str] = field(default_factory=dict)  # pod name -> log text (KWOK logs)
    after: list[tuple[str, Obj]] = field(default_factory=list)  # ("patch"|"scale", body) later
    expect_rejected: int = 0  # creates the API server is expected to refuse
    namespace_labels: dict[str, str] = field(default_factory=dict)
    cluster_objects: list[Obj] = field(default_factory=list)  # e.g. admission policies
    nodes: list[Obj] = field(default_factory=list)  # the case's own nodes (see stage.py)
    node_fault: Obj | None = None  # conditions a broken node reports (staged one at a time)
