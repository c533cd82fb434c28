"""Does a Service reach its pods: targetPort (number or name) and protocol vs containers.

``kubectl describe service`` prints ``Port: http 9555/TCP`` and ``TargetPort:
grpc/TCP``; ``describe pod`` prints each container's ``Port: 9555/TCP (http)``.
A targetPort that no selected container declares (by number, or by name for a
named port), or a protocol the container does not speak, leaves the Service
without working endpoints: the fix is on the Service, not on its callers.
"""

from __future__ import annotations

import re

from nightshift.agent.reasoners.offline.findings import Analysis, Finding
from nightshift.agent.reasoners.offline.topology import Topology, workload_name
from nightshift.domain.diagnosis import ResourceRef

_CONTAINER_PORT = re.compile(r"^\s+Ports?:[ \t]+(\d+)/(TCP|UDP|SCTP)(?:[ \t]+\(([\w-]+)\))?", re.M)
_SERVICE_PORT = re.compile(r"^Port:[ \t]+(?:([\w-]+)[ \t]+)?(\d+)/(TCP|UDP|SCTP)", re.M)
_TARGET = re.compile(r"^TargetPort:[ \t]+([\w-]+)/(TCP|UDP|SCTP)", re.M)


def record_container_ports(text: str, workload: str, topo: Topology) -> None:
    for number, proto, name in _CONTAINER_PORT.findall(text):
        topo.container_ports.setdefault(workload, set()).add((int(number), proto, name or ""))


def record_service_ports(text: str, svc: str, ns: str | None, topo: Topology) -> None:
    ports = _SERVICE_PORT.findall(text)
    targets = _TARGET.findall(text)
    if ports and targets:
        topo.service_ports[(svc, ns)] = [
            (f"{name or ''} {port}/{proto}".strip(), target, tproto)
            for (name, port, proto), (target, tproto) in zip(ports, targets, strict=False)
        ]


def _backends(topo: Topology, svc: str, ns: str | None) -> set[tuple[int, str, str]]:
    selector = topo.selectors.get((svc, ns), {})
    selected = {
        workload_name(p)
        for p, labels in topo.labels.items()
        if selector and all(labels.get(k) == v for k, v in selector.items())
    }
    if not selected:  # labels not read: the workload the selector (or the name) points at
        selected = {v for v in selector.values()} | {svc}
    return {spec for w in selected for spec in topo.container_ports.get(w, set())}


def check_service_ports(topo: Topology, out: Analysis) -> None:
    for (svc, ns), specs in list(topo.service_ports.items()):
        backends = _backends(topo, svc, ns)
        if not backends or f"ports-checked:{svc}" in topo.kinds:
            continue
        topo.kinds[f"ports-checked:{svc}"] = "yes"
        ref = ResourceRef("Service", svc, ns)
        shown = ", ".join(
            f"{n}/{p}" + (f" ({name})" if name else "") for n, p, name in sorted(backends)
        )
        for port, target, proto in specs:
            if target.isdigit():
                same = [b for b in backends if b[0] == int(target)]
                what = f"targetPort {target}"
            else:
                same = [b for b in backends if b[2] == target]
                what = f"named targetPort {target!r}"
            if not same:
                line = f"Service {svc} port {port}: {what} matches no container port ({shown})"
                out.findings.append(Finding("target-port-mismatch", ref, line))
            elif all(b[1] != proto for b in same):
                line = (
                    f"Service {svc} port {port} sends {proto} to {what}, "
                    f"but the container port is {same[0][0]}/{same[0][1]}"
                )
                out.findings.append(Finding("target-port-mismatch", ref, line))
