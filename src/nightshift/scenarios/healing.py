"""Making a workload's pods healthy: the usual shape of "after the fix".

Declared as ``heal: [namespace/kind/name]`` in a scenario's ``after_fix`` so the
author does not have to predict pod names that earlier actions (restarts,
rollbacks, scaling) may have changed.
"""

from __future__ import annotations

from nightshift.scenarios.cluster import pod_template, workload_pods
from nightshift.scenarios.kube_model import ContainerStatus, Pod
from nightshift.scenarios.materialize import Addresses, generate_pods, schedulable_nodes
from nightshift.scenarios.model import WorldState
from nightshift.scenarios.quantity import cpu_millis


def _roomiest(state: WorldState, nodes: list[str]) -> str:
    """The schedulable node with the most unrequested CPU (what the scheduler would favour)."""

    def free(name: str) -> int:
        node = next(n for n in state.nodes if n.name == name)
        alloc = cpu_millis((node.allocatable or node.capacity).get("cpu", "0"))
        used = sum(
            cpu_millis(c.resources.requests.get("cpu", "0"))
            for p in state.pods
            if p.node == name
            for c in pod_template(state, p).containers
        )
        return alloc - used

    return max(nodes, key=lambda name: (free(name), name))


def _healthy(
    state: WorldState, pod: Pod, nodes: list[str], addresses: Addresses, logs: str
) -> None:
    pod.phase, pod.reason, pod.message = "Running", None, None
    pod.unschedulable_message, pod.terminating = None, False
    if pod.node is None and nodes:
        pod.node = _roomiest(state, nodes)
    if pod.ip is None and pod.node is not None:
        pod.ip = addresses.pod_ip(pod.node, f"{pod.namespace}/{pod.name}")
    fresh = pod.age <= 60  # created by the fix itself: no history, no old log lines
    listed = {c.name: c for c in pod.containers}
    statuses: list[ContainerStatus] = []
    for container in pod_template(state, pod).containers:
        old = listed.get(container.name) or ContainerStatus(name=container.name, logs=logs)
        broken = old.state != "running" or old.ready is False
        statuses.append(
            ContainerStatus(
                name=container.name,
                restarts=0 if fresh else old.restarts,
                last_state=None if fresh else old.last_state,
                started=min(old.started, 60) if old.started is not None else None,
                logs="" if fresh else (logs if broken else old.logs),
                usage=old.usage,
            )
        )
    pod.containers = statuses
    pod.init_containers = [
        ContainerStatus(name=c.name, state="terminated", reason="Completed", exit_code=0)
        for c in pod.init_containers
    ]


def heal(state: WorldState, entry: str) -> list[str]:
    parts = entry.split("/")
    if len(parts) != 3:
        return [f"cannot heal '{entry}': expected namespace/kind/name"]
    namespace, kind, name = parts
    workload = next(
        (
            w
            for w in state.deployments
            if w.namespace == namespace and w.name == name and w.kind.lower() == kind.lower()
        ),
        None,
    )
    if workload is None:
        return [f"cannot heal '{entry}': no such workload"]
    nodes = schedulable_nodes(state)
    addresses = Addresses(state)
    pods = [p for p in workload_pods(state, workload) if not p.terminating]
    for pod in pods:
        _healthy(state, pod, nodes, addresses, workload.logs)
    missing = workload.replicas - len(pods)
    if missing > 0 and workload.kind != "DaemonSet":
        for pod in generate_pods(workload, nodes, missing, len(pods) + 100):
            pod.age = 40
            _healthy(state, pod, nodes, addresses, workload.logs)
            state.pods.append(pod)
    return [f"{workload.kind.lower()} {namespace}/{name}: all pods healthy"]
