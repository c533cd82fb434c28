"""What kubectl derives from the raw objects: pod templates, status columns,
replica sets, endpoints, deployment status.

Derived, never authored, so that an action that changes a pod is visible in
every view that depends on it (endpoints, deployment READY, ...).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from nightshift.scenarios.kube_model import (
    Container,
    ContainerStatus,
    Pod,
    PodTemplate,
    Service,
    Workload,
)
from nightshift.scenarios.model import WorldState

_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # what Kubernetes uses for generated names


def stable_token(seed: str, length: int) -> str:
    digest = hashlib.sha256(seed.encode()).digest()
    return "".join(_ALPHABET[b % len(_ALPHABET)] for b in digest[:length])


def stable_int(seed: str, modulo: int) -> int:
    return int.from_bytes(hashlib.sha256(seed.encode()).digest()[:4], "big") % modulo


def revision_hash(workload: Workload, revision: int) -> str:
    for rev in workload.revisions:
        if rev.revision == revision and rev.hash:
            return rev.hash
    return stable_token(f"{workload.namespace}/{workload.name}#{revision}", 10)


def current_revision(workload: Workload) -> int:
    return workload.revisions[-1].revision if workload.revisions else 1


def find_workload(state: WorldState, namespace: str, owner: str | None) -> Workload | None:
    if not owner or "/" not in owner:
        return None
    kind, name = owner.split("/", 1)
    for w in state.deployments:
        if w.namespace == namespace and w.name == name and w.kind.lower() == kind.lower():
            return w
    return None


def template_at(workload: Workload, revision: int | None) -> PodTemplate:
    """The workload's template as it was at ``revision`` (images / env differ)."""
    template = workload.template
    current = current_revision(workload)
    if revision is None or revision == current:
        return template
    exact = next((r for r in workload.revisions if r.revision == revision), None)
    if exact is not None and exact.template is not None:
        return exact.template
    images: dict[str, str] = {}
    envs: dict[str, dict[str, str]] = {}
    # later revisions override earlier ones up to the requested one
    for rev in workload.revisions:
        if rev.revision <= revision:
            images.update(rev.images)
            envs.update(rev.env)
    containers = [
        c.model_copy(update={"image": images.get(c.name, c.image), "env": envs.get(c.name, c.env)})
        for c in template.containers
    ]
    return template.model_copy(update={"containers": containers})


def pod_template(state: WorldState, pod: Pod) -> PodTemplate:
    if pod.spec is not None:
        return pod.spec
    workload = find_workload(state, pod.namespace, pod.owner)
    if workload is not None:
        return template_at(workload, pod.revision)
    return PodTemplate(containers=[Container(name=c.name, image="unknown") for c in pod.containers])


def pod_labels(state: WorldState, pod: Pod) -> dict[str, str]:
    workload = find_workload(state, pod.namespace, pod.owner)
    labels: dict[str, str] = {}
    if pod.spec is not None:
        labels.update(pod.spec.labels)
    elif workload is not None:
        labels.update(workload.template.labels)
        if workload.kind == "Deployment":
            rev = pod.revision or current_revision(workload)
            labels["pod-template-hash"] = revision_hash(workload, rev)
        elif workload.kind == "StatefulSet":
            labels["statefulset.kubernetes.io/pod-name"] = pod.name
    labels.update(pod.labels)
    return labels


def statuses(state: WorldState, pod: Pod) -> list[ContainerStatus]:
    """Container statuses, one per template container (a default for unlisted ones)."""
    listed = {c.name: c for c in pod.containers}
    out: list[ContainerStatus] = []
    for container in pod_template(state, pod).containers:
        status = listed.get(container.name)
        if status is None:
            if pod.phase == "Pending":
                status = ContainerStatus(
                    name=container.name,
                    state="waiting",
                    reason=None if pod.node is None else "ContainerCreating",
                )
            else:
                status = ContainerStatus(name=container.name)
        out.append(status)
    return out


def container_started(status: ContainerStatus, pod_age: int) -> int:
    """When the current container instance started: after its last termination, if any."""
    if status.started is not None:
        return status.started
    if status.last_state is not None:
        return status.last_state.finished
    return pod_age


def container_ready(status: ContainerStatus) -> bool:
    if status.ready is not None:
        return status.ready
    return status.state == "running"


def image_of(state: WorldState, pod: Pod, container: Container) -> str:
    for status in pod.containers:
        if status.name == container.name and status.image:
            return status.image
    return container.image


def pod_status_column(state: WorldState, pod: Pod) -> str:
    """kubectl's STATUS column (printPod), for the cases scenarios use."""
    if evicted(state, pod):
        return "Terminating"
    reason = pod.reason or pod.phase
    for i, init in enumerate(pod.init_containers):
        if init.state == "terminated" and init.exit_code == 0:
            continue
        total = len(pod.init_containers)
        if init.state == "terminated":
            return f"Init:{init.reason or 'Error'}"
        if init.state == "waiting" and init.reason and init.reason != "PodInitializing":
            return f"Init:{init.reason}"
        return f"Init:{i}/{total}"
    running = False
    for status in reversed(statuses(state, pod)):
        if (status.state == "waiting" and status.reason) or (
            status.state == "terminated" and status.reason
        ):
            reason = status.reason
        elif status.state == "terminated":
            reason = f"ExitCode:{status.exit_code or 0}"
        elif status.state == "running" and container_ready(status):
            running = True
    if reason == "Completed" and running:
        reason = "Running"
    return reason


def restarts_of(state: WorldState, pod: Pod) -> tuple[int, int | None]:
    """(total restarts, seconds since the most recent termination or None)."""
    total = 0
    last: int | None = None
    for status in statuses(state, pod):
        total += status.restarts
        if status.last_state is not None:
            ago = status.last_state.finished
            last = ago if last is None else min(last, ago)
    return total, last


EVICTION_GRACE = 300  # the default not-ready/unreachable toleration of a pod, in seconds


def node_lost_for(state: WorldState, pod: Pod) -> int | None:
    """Seconds since the pod's node stopped being Ready (None while it is Ready)."""
    for node in state.nodes:
        if node.name == pod.node and node.ready != "True":
            return node.ready_since
    return None


def evicted(state: WorldState, pod: Pod) -> bool:
    """The taint manager has marked it for deletion; its kubelet cannot confirm it."""
    lost = node_lost_for(state, pod)
    daemon = (pod.owner or "").lower().startswith("daemonset/")
    return pod.terminating or (lost is not None and lost > EVICTION_GRACE and not daemon)


def pod_ready(state: WorldState, pod: Pod) -> bool:
    if node_lost_for(state, pod) is not None:
        return False  # the node lifecycle controller marks its pods NotReady
    sts = statuses(state, pod)
    return pod.phase == "Running" and not pod.terminating and all(container_ready(s) for s in sts)


def selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def workload_pods(state: WorldState, workload: Workload) -> list[Pod]:
    owner = f"{workload.kind.lower()}/{workload.name}"
    return [
        p
        for p in state.pods
        if p.namespace == workload.namespace and p.owner and p.owner.lower() == owner
    ]


@dataclass(frozen=True, slots=True)
class WorkloadStatus:
    desired: int
    updated: int
    total: int
    ready: int
    available: int


def workload_status(state: WorldState, workload: Workload) -> WorkloadStatus:
    pods = [p for p in workload_pods(state, workload) if not evicted(state, p)]
    current = current_revision(workload)
    updated = sum(1 for p in pods if (p.revision or current) == current)
    ready = sum(1 for p in pods if pod_ready(state, p))
    desired = workload.replicas
    if workload.kind == "DaemonSet":
        desired = len(pods)
    return WorkloadStatus(desired, updated, len(pods), ready, ready)


@dataclass(frozen=True, slots=True)
class ReplicaSetView:
    name: str
    namespace: str
    revision: int
    desired: int
    current: int
    ready: int
    age: int
    template: PodTemplate
    selector: dict[str, str]
    workload: Workload


def replicasets(state: WorldState, workload: Workload) -> list[ReplicaSetView]:
    if workload.kind != "Deployment":
        return []
    revisions = [(r.revision, r.age) for r in workload.revisions] or [(1, workload.age)]
    current = current_revision(workload)
    out: list[ReplicaSetView] = []
    pods = [p for p in workload_pods(state, workload) if not p.terminating]
    for revision, age in revisions:
        mine = [p for p in pods if (p.revision or current) == revision]
        desired = workload.replicas if revision == current else len(mine)
        rs_hash = revision_hash(workload, revision)
        selector = {**(workload.selector or workload.template.labels), "pod-template-hash": rs_hash}
        out.append(
            ReplicaSetView(
                name=f"{workload.name}-{rs_hash}",
                namespace=workload.namespace,
                revision=revision,
                desired=desired,
                current=len(mine),
                ready=sum(1 for p in mine if pod_ready(state, p)),
                age=age,
                template=template_at(workload, revision),
                selector=selector,
                workload=workload,
            )
        )
    return out


@dataclass(frozen=True, slots=True)
class EndpointAddress:
    ip: str
    port: int
    ready: bool
    pod: str
    node: str | None
    port_name: str | None = None


def endpoints(state: WorldState, service: Service) -> list[EndpointAddress]:
    """What the endpoints controller would publish: selected pods with an IP."""
    if not service.selector:
        return []
    pods = [
        pod
        for pod in state.pods
        if pod.namespace == service.namespace
        and pod.ip
        and not evicted(state, pod)
        and selects(service.selector, pod_labels(state, pod))
    ]
    # kubectl prints port by port, address by address
    return [
        EndpointAddress(
            str(pod.ip),
            resolve_target_port(state, pod, sp.target_port, sp.port),
            pod_ready(state, pod),
            pod.name,
            pod.node,
            sp.name,
        )
        for sp in service.ports
        for pod in pods
    ]


def resolve_target_port(state: WorldState, pod: Pod, target: int | str | None, port: int) -> int:
    if target is None:
        return port
    if isinstance(target, int):
        return target
    if target.isdigit():
        return int(target)
    for container in pod_template(state, pod).containers:
        for p in container.ports:
            if p.name == target:
                return p.port
    return port
