"""The Kubernetes part of a scenario file: resources as the author writes them.

These are the file schema (validated with pydantic so a malformed file names
the field that is wrong), not a copy of the Kubernetes API: only what a
diagnosis can observe. Anything kubectl derives (endpoints, replica sets,
deployment status, READY/STATUS columns) is computed from these, never
written by hand, so it cannot contradict the pods.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from nightshift.scenarios.clock import parse_duration

Ago = Annotated[int, BeforeValidator(parse_duration)]
"""Seconds before the scenario's ``now``; written as ``12m`` / ``3d`` in files."""


class FileModel(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=False)


class Usage(FileModel):
    cpu: str = "5m"
    memory: str = "32Mi"


class Probe(FileModel):
    type: Literal["http-get", "tcp-socket", "exec", "grpc"] = "http-get"
    path: str = "/healthz"
    port: int | str = 8080
    scheme: str = "http"
    command: list[str] = Field(default_factory=list)
    initial_delay: int = 0
    timeout: int = 1
    period: int = 10
    success: int = 1
    failure: int = 3


class Port(FileModel):
    port: int
    name: str | None = None
    protocol: str = "TCP"


class Mount(FileModel):
    path: str
    volume: str
    read_only: bool = False


class Resources(FileModel):
    requests: dict[str, str] = Field(default_factory=dict)
    limits: dict[str, str] = Field(default_factory=dict)


class Container(FileModel):
    name: str
    image: str
    command: list[str] = Field(default_factory=list)
    args: list[str] = Field(default_factory=list)
    ports: list[Port] = Field(default_factory=list)
    # value, or "secret:NAME/KEY" / "configmap:NAME/KEY" for references
    env: dict[str, str] = Field(default_factory=dict)
    env_from: list[str] = Field(default_factory=list)  # "configmap:NAME" | "secret:NAME"
    resources: Resources = Field(default_factory=Resources)
    liveness: Probe | None = None
    readiness: Probe | None = None
    startup: Probe | None = None
    mounts: list[Mount] = Field(default_factory=list)

    @field_validator("ports", mode="before")
    @classmethod
    def _int_ports(cls, value: object) -> object:
        if isinstance(value, list):
            return [{"port": p} if isinstance(p, int) else p for p in value]
        return value


class Volume(FileModel):
    name: str
    type: Literal["configmap", "secret", "pvc", "emptydir", "hostpath"] = "emptydir"
    source: str | None = None


class Toleration(FileModel):
    key: str
    operator: Literal["Exists", "Equal"] = "Exists"
    value: str | None = None
    effect: str | None = None
    seconds: int | None = None


class PodTemplate(FileModel):
    labels: dict[str, str] = Field(default_factory=dict)
    containers: list[Container] = Field(min_length=1)
    init_containers: list[Container] = Field(default_factory=list)
    volumes: list[Volume] = Field(default_factory=list)
    service_account: str = "default"
    node_selector: dict[str, str] = Field(default_factory=dict)
    tolerations: list[Toleration] = Field(default_factory=list)
    image_pull_secrets: list[str] = Field(default_factory=list)
    priority_class: str | None = None


class Revision(FileModel):
    """One entry of ``kubectl rollout history``; ``images`` differ from the template."""

    revision: int
    age: Ago
    hash: str | None = None  # pod-template-hash; default: derived from name and revision
    change_cause: str | None = None
    images: dict[str, str] = Field(default_factory=dict)
    env: dict[str, dict[str, str]] = Field(default_factory=dict)  # container -> env
    # the whole pod template at this revision, when more than images/env differ
    template: PodTemplate | None = None


class Workload(FileModel):
    name: str
    namespace: str = "default"
    kind: Literal["Deployment", "StatefulSet", "DaemonSet"] = "Deployment"
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    age: Ago = 30 * 86400
    replicas: int = 1
    selector: dict[str, str] = Field(default_factory=dict)  # default: template labels
    template: PodTemplate
    # oldest first; the last one is the current template. Default: one revision.
    revisions: list[Revision] = Field(default_factory=list)
    # Pods the loader generates: ``replicas`` of them when the file lists no pod for
    # this workload, else ``healthy_pods`` extra healthy ones beside the listed ones.
    healthy_pods: int = 0
    logs: str = ""
    usage: Usage | None = None
    progress_deadline_exceeded: bool = False


class LastState(FileModel):
    reason: str = "Error"
    exit_code: int = 1
    started: Ago = 0
    finished: Ago = 0
    message: str | None = None
    signal: int | None = None


class ContainerStatus(FileModel):
    name: str
    state: Literal["running", "waiting", "terminated"] = "running"
    reason: str | None = None
    message: str | None = None
    exit_code: int | None = None
    started: Ago | None = None  # default: the pod's age
    finished: Ago | None = None
    ready: bool | None = None  # default: running and its readiness passes
    restarts: int = 0
    last_state: LastState | None = None
    image: str | None = None  # default: the owner's template image
    logs: str = ""
    previous_logs: str | None = None
    usage: Usage | None = None


class Pod(FileModel):
    name: str
    namespace: str = "default"
    owner: str | None = None  # "deployment/NAME", "statefulset/NAME", "job/NAME"
    revision: int | None = None  # which owner revision it runs; default: current
    spec: PodTemplate | None = None  # for pods without an owner (or to override it)
    labels: dict[str, str] = Field(default_factory=dict)
    age: Ago = 86400
    node: str | None = None
    ip: str | None = None
    phase: Literal["Running", "Pending", "Succeeded", "Failed", "Unknown"] = "Running"
    reason: str | None = None  # pod-level: Evicted, NodeLost, UnexpectedAdmissionError
    message: str | None = None
    terminating: bool = False
    containers: list[ContainerStatus] = Field(default_factory=list)
    init_containers: list[ContainerStatus] = Field(default_factory=list)
    unschedulable_message: str | None = None  # PodScheduled=False condition message


class ServicePort(FileModel):
    port: int
    target_port: int | str | None = None
    name: str | None = None
    protocol: str = "TCP"
    node_port: int | None = None


class Service(FileModel):
    name: str
    namespace: str = "default"
    type: Literal["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"] = "ClusterIP"
    cluster_ip: str | None = None
    external_ip: str | None = None
    external_name: str | None = None
    selector: dict[str, str] = Field(default_factory=dict)
    ports: list[ServicePort] = Field(default_factory=list)
    labels: dict[str, str] = Field(default_factory=dict)
    age: Ago = 90 * 86400


class Taint(FileModel):
    key: str
    value: str | None = None
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] = "NoSchedule"


class NodeCondition(FileModel):
    type: str
    status: Literal["True", "False", "Unknown"]
    reason: str
    message: str
    since: Ago = 30 * 86400


class Node(FileModel):
    name: str
    roles: list[str] = Field(default_factory=list)
    labels: dict[str, str] = Field(default_factory=dict)
    age: Ago = 60 * 86400
    version: str = "v1.30.4"
    internal_ip: str | None = None
    os_image: str = "Ubuntu 22.04.4 LTS"
    kernel: str = "6.5.0-1022-aws"
    runtime: str = "containerd://1.7.20"
    ready: Literal["True", "False", "Unknown"] = "True"
    ready_reason: str | None = None
    ready_message: str | None = None
    ready_since: Ago = 30 * 86400
    conditions: list[NodeCondition] = Field(default_factory=list)  # overrides by type
    taints: list[Taint] = Field(default_factory=list)
    unschedulable: bool = False
    capacity: dict[str, str] = Field(
        default_factory=lambda: {"cpu": "4", "memory": "16Gi", "pods": "110"}
    )
    allocatable: dict[str, str] = Field(default_factory=dict)  # default: capacity
    usage: Usage | None = None

    @field_validator("ready", mode="before")
    @classmethod
    def _bool_ready(cls, value: object) -> object:
        if isinstance(value, bool):
            return "True" if value else "False"
        return value


class Namespace(FileModel):
    name: str
    age: Ago = 180 * 86400
    status: Literal["Active", "Terminating"] = "Active"
    labels: dict[str, str] = Field(default_factory=dict)


class ConfigMap(FileModel):
    name: str
    namespace: str = "default"
    data: dict[str, str] = Field(default_factory=dict)
    age: Ago = 30 * 86400


class Secret(FileModel):
    name: str
    namespace: str = "default"
    type: str = "Opaque"
    keys: list[str] = Field(default_factory=list)  # values are never shown
    age: Ago = 30 * 86400


class PersistentVolumeClaim(FileModel):
    name: str
    namespace: str = "default"
    status: Literal["Bound", "Pending", "Lost"] = "Bound"
    volume: str | None = None
    capacity: str = "10Gi"
    access_modes: list[str] = Field(default_factory=lambda: ["ReadWriteOnce"])
    storage_class: str | None = "gp3"
    age: Ago = 30 * 86400


class Job(FileModel):
    name: str
    namespace: str = "default"
    completions: int = 1
    succeeded: int = 0
    failed: int = 0
    active: int = 0
    duration: Ago | None = None
    age: Ago = 3600
    backoff_limit: int = 6
    template: PodTemplate | None = None
    condition: Literal["Complete", "Failed", "Running", "Suspended"] = "Running"
    condition_reason: str | None = None  # e.g. BackoffLimitExceeded


class PolicyPeer(FileModel):
    pod_selector: dict[str, str] | None = None
    namespace_selector: dict[str, str] | None = None
    ip_block: str | None = None
    ports: list[str] = Field(default_factory=list)  # "5432/TCP"


class NetworkPolicy(FileModel):
    name: str
    namespace: str = "default"
    pod_selector: dict[str, str] = Field(default_factory=dict)
    policy_types: list[Literal["Ingress", "Egress"]] = Field(
        default_factory=lambda: list[Literal["Ingress", "Egress"]](["Ingress"])
    )
    ingress: list[PolicyPeer] = Field(default_factory=list)
    egress: list[PolicyPeer] = Field(default_factory=list)
    age: Ago = 30 * 86400


class ResourceQuota(FileModel):
    name: str
    namespace: str = "default"
    hard: dict[str, str] = Field(default_factory=dict)
    used: dict[str, str] = Field(default_factory=dict)
    age: Ago = 90 * 86400


class Event(FileModel):
    namespace: str = "default"
    kind: str  # of the involved object
    name: str
    type: Literal["Normal", "Warning"] = "Normal"
    reason: str
    message: str
    source: str = "kubelet"
    first_seen: Ago | None = None  # default: last_seen
    last_seen: Ago = 60
    count: int = 1
