"""Reading ``kubectl describe``: topology facts and the spec's own contradictions.

The namespace, selectors and endpoints, node selectors, replicas the
controller could not create, ports (a probe on a port no container listens
on, a Service targeting a port nothing exposes), addresses, and the detail a
human needs next to a signal (the selector, the image, the command).
"""

from __future__ import annotations

import re

from nightshift.agent.reasoners.offline import sections
from nightshift.agent.reasoners.offline.findings import Analysis, Finding
from nightshift.agent.reasoners.offline.ports import (
    record_container_ports,
    record_service_ports,
)
from nightshift.agent.reasoners.offline.topology import (
    PodInfo,
    Topology,
    parse_labels,
)
from nightshift.domain.diagnosis import ResourceRef

# "Port: 8080/TCP" or, for several, "Ports: 8080/TCP, 8081/TCP"; a Host Port (0 unless
# hostPort is set) is not a port the container listens on
_PORTS = re.compile(r"^\s+Ports?:[ \t]+([^\n]+)$", re.M)
_PORT_NUMBER = re.compile(r"(\d+)/(?:TCP|UDP|SCTP)")

_PROBE = re.compile(
    r"^\s+(Liveness|Readiness):\s+(?:http-get\s+\S*?:(\d+)|tcp-socket\s+\S*?:(\d+))", re.M
)
_TARGET_PORT = re.compile(r"^TargetPort:\s+(\d+)/", re.M)

_SELECTOR = re.compile(r"^Selector:\s+(\S+=\S*)\s*$", re.M)
_NO_ENDPOINTS = re.compile(r"^Endpoints:[ \t]*(<none>)?[ \t]*$", re.M)

# "Node-Selectors:  pool=a" with one more label per indented continuation line
_NODE_SELECTOR = re.compile(r"^Node-Selectors:[ \t]+(\S+=\S*(?:\n[ \t]{8,}\S+=\S*)*)", re.M)
_REPLICAS = re.compile(r"^Replicas:\s+(\d+) desired \|[^|\n]*\|\s*(\d+) total", re.M)

_CREATED_POD = re.compile(r"Created pod:\s+([a-z0-9][\w.-]+)")
_NAMESPACE = re.compile(r"^Namespace:\s+(\S+)", re.M)


def read_describe(text: str, subject: ResourceRef, topo: Topology, out: Analysis) -> None:
    ns = _NAMESPACE.search(text)
    namespace = ns.group(1) if ns else subject.namespace
    if namespace:
        topo.namespaces.add(namespace)
        topo.kinds.setdefault(f"ns:{subject.name}", namespace)
    service = subject.kind.lower().startswith("service")
    _read_selectors(text, subject, namespace, service, topo)
    _read_replicas(text, subject, namespace, topo)
    if service:
        record_service_ports(text, subject.name, namespace, topo)
    elif subject.kind != "Node":
        record_container_ports(text, subject.name, topo)
    _check_probe_ports(text, subject, topo, out)
    if service:
        _check_target_port(text, subject, topo, out)
    _read_address(text, subject, topo)
    for line in sections.init_failures(text):
        out.findings.append(Finding("init-container-failed", subject, line))
    pending = re.search(r"^Status:\s+Pending", text, re.M)
    no_events = re.search(r"^Events:\s+<none>", text, re.M)
    if pending and no_events and not re.search(r"^Node:\s+\S+/", text, re.M):
        out.findings.append(
            Finding("pending-no-events", subject, "Pending with no node and no events")
        )


def _read_selectors(
    text: str, subject: ResourceRef, namespace: str | None, service: bool, topo: Topology
) -> None:
    """A Service's pod selector (and whether it has endpoints); a workload's node selector."""
    sel = _SELECTOR.search(text)
    if sel and service:
        topo.selectors[(subject.name, namespace)] = parse_labels(sel.group(1))
        if _NO_ENDPOINTS.search(text):
            topo.no_endpoints.add((subject.name, namespace))
    selector = _NODE_SELECTOR.search(text)
    if selector and subject.kind != "Node":
        labels = parse_labels(",".join(selector.group(1).split()))
        if labels:
            topo.node_selectors[subject.name] = labels


def _read_replicas(text: str, subject: ResourceRef, namespace: str | None, topo: Topology) -> None:
    """Replicas the controller could not create, a stalled rollout, the pods it made."""
    short = _REPLICAS.search(text)
    if short and int(short.group(2)) < int(short.group(1)):  # pods it could not create
        topo.kinds[f"short:{subject.name}"] = f"{short.group(2)}/{short.group(1)}"
    stalled = sections.stalled_replicaset(text)
    if stalled and subject.kind.lower() == "deployment":
        topo.stalled.add((stalled, namespace))
    for pod in _CREATED_POD.findall(text):  # the controller names the pods it made
        if pod not in topo.pods:
            topo.add_pod(PodInfo(pod, namespace, status="Unknown"))


def _check_probe_ports(text: str, subject: ResourceRef, topo: Topology, out: Analysis) -> None:
    """A liveness or readiness probe on a port no container declares; the declared ports."""
    ports = {int(x) for line in _PORTS.findall(text) for x in _PORT_NUMBER.findall(line)}
    for kind, http_port, tcp_port in _PROBE.findall(text):
        port = int(http_port or tcp_port)
        if ports and port not in ports:
            signal = "probe-port-mismatch" if kind == "Liveness" else "readiness-port-mismatch"
            out.findings.append(
                Finding(
                    signal,
                    subject,
                    f"{kind} probe port {port} not in container ports {sorted(ports)}",
                )
            )
    if ports:
        topo.kinds[f"ports:{subject.name}"] = ",".join(str(x) for x in sorted(ports))


def _check_target_port(text: str, subject: ResourceRef, topo: Topology, out: Analysis) -> None:
    """A Service whose TargetPort is none of the ports recorded for what it names."""
    tp = _TARGET_PORT.search(text)
    if not tp:
        return
    for key, val in topo.kinds.items():
        if (
            key.startswith("ports:")
            and key[6:] in subject.name + " " + subject.name
            and tp.group(1) not in val.split(",")
        ):
            out.findings.append(
                Finding(
                    "target-port-mismatch",
                    subject,
                    f"TargetPort {tp.group(1)} vs container ports {val}",
                )
            )


def _read_address(text: str, subject: ResourceRef, topo: Topology) -> None:
    """A Service's ClusterIP (resolving the callers that named it by address), a pod's IP."""
    own = re.search(r"^Name:\s+(\S+)", text, re.M)
    ip = sections.describe_ip(text)
    if not own or not ip:
        return
    if subject.kind == "Service":  # a ClusterIP
        topo.service_ips[ip] = own.group(1)
        for caller, addr, port in sorted(topo.unresolved):
            if addr == ip:
                topo.add_dependency(caller, own.group(1), port)
    elif subject.kind.lower() != "node":
        topo.ips.setdefault(ip, own.group(1))


# Spec fields that carry the detail a human needs to check a signal (the
# selector that matches no node, the image that cannot be pulled, ...).
_CONTEXT: dict[str, re.Pattern[str]] = {
    "sched-selector": re.compile(r"^Node-Selectors:\s+(?!<none>).*$", re.M),
    "sched-pvc": re.compile(r"^\s+ClaimName:\s+\S+", re.M),
    "image-pull": re.compile(r"^\s+Image:\s+\S+", re.M),
    "bad-command": re.compile(r"^\s+(?:Command|Args):\s*\n(?:\s{5,}\S.*\n?){1,4}", re.M),
    "crashloop": re.compile(r"^\s+(?:Command|Args):\s*\n(?:\s{5,}\S.*\n?){1,4}", re.M),
    "pvc-provisioning": re.compile(r"^StorageClass:\s+\S+", re.M),
}
_CLAIM = re.compile(r"^\s+ClaimName:\s+(\S+)", re.M)


def describe_context(text: str, subject: ResourceRef, out: Analysis, topo: Topology) -> None:
    found = {f.signal for f in out.findings}
    for signal, pattern in _CONTEXT.items():
        m = pattern.search(text) if signal in found else None
        if m:
            detail = " ".join(m.group(0).split())
            out.findings.append(Finding(f"context:{signal}", subject, detail[:240]))
    for claim in _CLAIM.findall(text):
        topo.claims.add((claim, subject.namespace))
