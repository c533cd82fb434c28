"""Turning a compact scenario file into a complete world.

Authors list only the interesting pods; healthy replicas, IPs, node placement
and the 300 alerts of an alert storm are generated here, deterministically
(hash-seeded, no randomness), so two loads of a file are identical.
"""

from __future__ import annotations

from nightshift.scenarios.clock import expand_timestamps
from nightshift.scenarios.cluster import (
    EVICTION_GRACE,
    current_revision,
    evicted,
    node_lost_for,
    revision_hash,
    stable_int,
    stable_token,
    workload_pods,
)
from nightshift.scenarios.kube_model import Namespace, Pod, Workload
from nightshift.scenarios.model import Alert, Scenario, WorldState


def expand_alert_storm(scenario: Scenario) -> None:
    for group in scenario.alert_storm:
        for i in range(group.count):
            fraction = i / (group.count - 1) if group.count > 1 else 0.0
            since = round(group.since_from - (group.since_from - group.since_to) * fraction)
            target = group.targets[i % len(group.targets)].format(i=i)
            scenario.alerts.append(
                Alert(
                    name=group.name,
                    severity=group.severity,
                    domain=group.domain,
                    target=target,
                    since=since,
                    summary=group.summary.format(target=target, i=i),
                    labels=dict(group.labels),
                    symptom=group.symptom,
                )
            )
    scenario.alert_storm = []


def schedulable_nodes(scenario: WorldState) -> list[str]:
    workers = [
        n.name
        for n in scenario.nodes
        if "control-plane" not in n.roles and not n.unschedulable and n.ready == "True"
    ]
    return workers or [n.name for n in scenario.nodes]


class Addresses:
    """Hands out unique, stable pod IPs per node and service IPs."""

    def __init__(self, scenario: WorldState) -> None:
        self.node_index = {n.name: i + 1 for i, n in enumerate(scenario.nodes)}
        self.used = {p.ip for p in scenario.pods if p.ip}
        self.used |= {s.cluster_ip for s in scenario.services if s.cluster_ip}

    def _unique(self, prefix: str, seed: str) -> str:
        n = stable_int(seed, 240) + 10
        while f"{prefix}.{n}" in self.used:
            n = n + 1 if n < 253 else 10
        ip = f"{prefix}.{n}"
        self.used.add(ip)
        return ip

    def pod_ip(self, node: str, seed: str) -> str:
        return self._unique(f"10.244.{self.node_index.get(node, 0)}", seed)

    def service_ip(self, seed: str) -> str:
        return self._unique(f"10.96.{stable_int(seed + '/net', 250) + 1}", seed)


def generate_pods(workload: Workload, nodes: list[str], count: int, start: int = 0) -> list[Pod]:
    revision = current_revision(workload)
    age = workload.revisions[-1].age if workload.revisions else workload.age
    pods: list[Pod] = []
    if workload.kind == "DaemonSet":
        names = [(f"{workload.name}-{stable_token(workload.name + n, 5)}", n) for n in nodes]
    elif workload.kind == "StatefulSet":
        names = [(f"{workload.name}-{i}", "") for i in range(start, start + count)]
    else:
        rs = revision_hash(workload, revision)
        names = [
            (f"{workload.name}-{rs}-{stable_token(f'{workload.name}{i}', 5)}", "")
            for i in range(start, start + count)
        ]
    offset = stable_int(workload.name, max(len(nodes), 1))
    for i, (name, node) in enumerate(names):
        placed = node or (nodes[(offset + i) % len(nodes)] if nodes else None)
        pods.append(
            Pod(
                name=name,
                namespace=workload.namespace,
                owner=f"{workload.kind.lower()}/{workload.name}",
                age=age,
                node=placed,
                containers=[],
            )
        )
    return pods


def _replace_evicted(scenario: Scenario, nodes: list[str]) -> None:
    """Deployment pods on a lost node were evicted; their replica sets made new ones."""
    for workload in scenario.deployments:
        if workload.kind != "Deployment":
            continue
        pods = workload_pods(scenario, workload)
        gone = [p for p in pods if evicted(scenario, p)]
        lost_for = [node_lost_for(scenario, p) or 0 for p in gone]
        missing = workload.replicas - (len(pods) - len(gone))
        if not gone or missing <= 0:
            continue
        fresh = generate_pods(workload, nodes, missing, len(pods) + 50)
        for pod in fresh:
            pod.age = max(lost_for) - EVICTION_GRACE
        scenario.pods.extend(fresh)


def materialize(scenario: Scenario) -> None:
    nodes = schedulable_nodes(scenario)
    for workload in scenario.deployments:
        listed = workload_pods(scenario, workload)
        count = workload.healthy_pods if listed else workload.replicas
        # a DaemonSet has a pod on every node, ready or not
        placement = [n.name for n in scenario.nodes] if workload.kind == "DaemonSet" else nodes
        if count or (workload.kind == "DaemonSet" and not listed):
            scenario.pods.extend(generate_pods(workload, placement, count, len(listed)))
    _replace_evicted(scenario, nodes)
    addresses = Addresses(scenario)
    for i, node in enumerate(scenario.nodes):
        if node.internal_ip is None:
            node.internal_ip = f"10.0.{16 + i * 16 + stable_int(node.name, 16)}.{i + 11}"
    for pod in scenario.pods:
        if pod.node is None and pod.phase != "Pending" and nodes:
            pod.node = nodes[stable_int(pod.name, len(nodes))]
        if (
            pod.ip is None
            and pod.node is not None
            and pod.phase in ("Running", "Unknown", "Pending")
        ):
            pod.ip = addresses.pod_ip(pod.node, f"{pod.namespace}/{pod.name}")
        for status in [*pod.containers, *pod.init_containers]:
            status.logs = expand_timestamps(status.logs, scenario.metadata.now)
            if status.previous_logs is not None:
                status.previous_logs = expand_timestamps(
                    status.previous_logs, scenario.metadata.now
                )
    for workload in scenario.deployments:
        workload.logs = expand_timestamps(workload.logs, scenario.metadata.now)
    for stream in scenario.log_streams:
        stream.lines = expand_timestamps(stream.lines, scenario.metadata.now)
    for service in scenario.services:
        if service.cluster_ip is None and service.type != "ExternalName":
            service.cluster_ip = addresses.service_ip(f"{service.namespace}/{service.name}")
    namespaces = {n.name for n in scenario.namespaces}
    for ns in sorted({p.namespace for p in scenario.pods} - namespaces):
        scenario.namespaces.append(Namespace(name=ns))
