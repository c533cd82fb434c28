# ruff: noqa: E501 - fault tables and kubelet messages read best one per line
"""Faults between workloads and below them: Services, NetworkPolicies, nodes, and what
only a caller's logs show (expired certificates, exhausted pools, database limits, rollouts).

A caller is a StatefulSet (``NAME-0``: a name KWOK's ClusterLogs can serve
logs for) that logs its dependency by ClusterIP, as real clients do.
"""

from __future__ import annotations

from typing import Any

from bench.corpus.common import base
from bench.corpus.kube import (
    KubeletEvent,
    State,
    container,
    deployment,
    kubelet_status,
    pod_spec,
    running,
    service,
    statefulset,
    terminated,
    waiting,
)
from bench.corpus.model import Built, FaultType, Truth, Variant

Obj = dict[str, Any]


def _caller(v: Variant, url: str, lines: list[str]) -> tuple[Obj, str]:
    env = [{"name": f"{v.dep.upper().replace('-', '_')}_URL", "value": url}]
    sts = statefulset(v.app, pod_spec([container("app", v.image(v.app), v.port, env=env)]))
    return sts, "".join(line + "\n" for line in [f"starting {v.app}", *lines])


def _dependency(v: Variant, port: int, labels: dict[str, str] | None = None) -> Obj:
    d = deployment(v.dep, pod_spec([container("server", v.image(v.dep, "3.2.1"), port)]), 2)
    if labels:
        d["spec"]["template"]["metadata"]["labels"].update(labels)
    return d


def _ask(v: Variant) -> str:
    return f"{v.app} in namespace {v.ns} reports errors calling {v.dep}"


def routing(kind: str) -> Any:
    def build(v: Variant) -> Built:
        plan = base(v)
        port = v.rng.choice([7000, 8443, 9555, 6379])
        ip = v.ip(1)
        svc = service(v.dep, {"app": v.dep}, port, port, ip)
        error = "connect: connection refused"
        fault, truth_kind, truth_name = "service-port-mismatch", "Service", v.dep
        if kind == "selector":
            svc["spec"]["selector"] = {"app": f"{v.dep}-v2"}
            fault = "service-selector-mismatch"
        elif kind == "target-port":
            svc["spec"]["ports"][0]["targetPort"] = port + 1
        elif kind == "named-port":
            svc["spec"]["ports"][0]["targetPort"] = "grpc"
        elif kind == "protocol":
            svc["spec"]["ports"][0]["protocol"] = "UDP"
            error = "i/o timeout"
        plan.objects += [_dependency(v, port), svc]
        host = f"{ip}:{port}"
        caller, logs = _caller(
            v,
            f"http://{v.dep}:{port}",
            [f"ERROR request to {v.dep} failed: dial tcp {host}: {error}"] * 3
            + [f"WARN circuit breaker for {v.dep} is OPEN after 5 consecutive failures"],
        )
        plan.objects.append(caller)
        plan.logs[f"{v.app}-0"] = logs
        return Built(plan, Truth("service-routing", fault, truth_kind, truth_name), _ask(v))

    return build


def netpol(direction: str) -> Any:
    def build(v: Variant) -> Built:
        plan = base(v)
        port = v.rng.choice([5432, 6379, 8080])
        ip = v.ip(1)
        name = v.rng.choice(["default-deny", "restrict-ingress", "lockdown"]) + f"-{direction}"
        if direction == "ingress":
            spec = {
                "podSelector": {"matchLabels": {"app": v.dep}},
                "policyTypes": ["Ingress"],
                "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "admin-tools"}}}]}],
            }
        else:
            spec = {
                "podSelector": {"matchLabels": {"app": v.app}},
                "policyTypes": ["Egress"],
                "egress": [{"ports": [{"port": 53, "protocol": "UDP"}]}],
            }
        plan.objects += [
            _dependency(v, port),
            service(v.dep, {"app": v.dep}, port, port, ip),
            {
                "apiVersion": "networking.k8s.io/v1",
                "kind": "NetworkPolicy",
                "metadata": {"name": name},
                "spec": spec,
            },
        ]
        caller, logs = _caller(
            v, f"tcp://{v.dep}:{port}", [f"ERROR {v.dep}: dial tcp {ip}:{port}: i/o timeout"] * 4
        )
        plan.objects.append(caller)
        plan.logs[f"{v.app}-0"] = logs
        return Built(
            plan,
            Truth("service-routing", "network-policy-blocking", "NetworkPolicy", name),
            _ask(v),
        )

    return build


def wrong_address(v: Variant) -> Built:
    plan = base(v)
    port = 8080
    plan.objects += [_dependency(v, port), service(v.dep, {"app": v.dep}, port, port, v.ip(1))]
    old = f"{v.dep}-legacy"
    caller, logs = _caller(
        v,
        f"http://{old}:{port}",
        [
            f"ERROR calling {old}: dial tcp: lookup {old}.{v.ns}.svc.cluster.local on 10.96.0.10:53: no such host"
        ]
        * 3,
    )
    plan.objects.append(caller)
    plan.logs[f"{v.app}-0"] = logs
    return Built(
        plan, Truth("service-routing", "wrong-dependency-address", "StatefulSet", v.app), _ask(v)
    )


def log_fault(kind: str) -> Any:
    """Faults only the caller's logs reveal; the cluster objects look healthy."""

    def build(v: Variant) -> Built:
        plan = base(v)
        port = {"cert": 443, "db-limit": 5432, "pool": 5432}[kind]
        ip = v.ip(1)
        if kind == "db-limit":
            db = statefulset(v.dep, pod_spec([container("postgres", "postgres:16.4", port)]))
            plan.objects.append(db)
        else:
            plan.objects.append(_dependency(v, port))
        plan.objects.append(service(v.dep, {"app": v.dep}, port, port, ip))
        if kind == "cert":
            secret = f"{v.dep}-tls"
            plan.objects.append(
                {
                    "apiVersion": "v1",
                    "kind": "Secret",
                    "metadata": {"name": secret},
                    "type": "kubernetes.io/tls",
                    "data": {"tls.crt": "", "tls.key": ""},
                }
            )
            lines = [
                f'ERROR Post "https://{v.dep}:{port}/v1/check": tls: failed to verify certificate: x509: certificate has expired or is not yet valid: current time 2026-12-02T02:14:07Z is after 2026-11-30T23:59:59Z'
            ] * 3
            truth = Truth("security", "certificate-expired", "Secret", secret)
        elif kind == "db-limit":
            lines = [
                f"ERROR could not connect to {v.dep}:{port}: FATAL:  sorry, too many clients already"
            ] * 2 + [
                f"ERROR pq: remaining connection slots are reserved for non-replication superuser connections ({ip}:{port})"
            ]
            truth = Truth("database", "db-connection-limit", "StatefulSet", v.dep)
        else:
            lines = [
                "WARN HikariPool-1 - Connection is not available, request timed out after 30000ms (total=10, active=10, idle=0, waiting=48)"
            ] * 3 + ["ERROR request failed after 30012 ms: could not acquire a database connection"]
            truth = Truth("performance", "connection-pool-exhaustion", "StatefulSet", v.app)
        caller, logs = _caller(v, f"https://{v.dep}:{port}", lines)
        plan.objects.append(caller)
        plan.logs[f"{v.app}-0"] = logs
        return Built(
            plan,
            truth,
            _ask(v) if kind != "pool" else f"{v.app} in namespace {v.ns} is slow and times out",
        )

    return build


def bad_rollout(v: Variant) -> Built:
    """Revision 2 crashes; the rollout stalls with the old pods still serving."""
    plan = base(v)
    spec = pod_spec([container("app", v.image(v.app, "1.4.2"), v.port)])
    d = deployment(v.app, spec, 3)
    d["metadata"]["annotations"] = {"kubernetes.io/change-cause": f"deploy {v.app} 1.4.2"}
    plan.objects.append(d)
    image = v.image(v.app, "1.5.0")
    ann = kubelet_status(
        v.now,
        [
            State(
                "app",
                image,
                waiting("CrashLoopBackOff", "back-off 2m40s restarting failed container=app"),
                last=terminated(v.now, "Error", 2, ran=3),
                restarts=5,
            )
        ],
    )
    plan.after.append(
        (
            "patch",
            {
                "metadata": {
                    "annotations": {
                        "kubernetes.io/change-cause": f"deploy {v.app} 1.5.0 (release train 48)"
                    }
                },
                "spec": {
                    "template": {
                        "metadata": {"annotations": ann},
                        "spec": {"containers": [{"name": "app", "image": image}]},
                    }
                },
            },
        )
    )
    plan.events.append(
        KubeletEvent(
            v.app,
            "BackOff",
            "Back-off restarting failed container app in pod {pod}",
            count=22,
            first=600,
            last=15,
            container="app",
        )
    )
    return Built(
        plan,
        Truth("change", "bad-deployment-rollout", "Deployment", v.app),
        f"Errors in {v.app} in namespace {v.ns} since the last deploy",
    )


# -- nodes (staged one at a time: a broken node is visible to every namespace) ---------------


def node_fault(kind: str) -> Any:
    def build(v: Variant) -> Built:
        plan = base(v)
        node = f"{v.rng.choice(['ip-10-0-12', 'node-pool-a', 'worker-b'])}-{v.serial:03d}"
        conditions = {
            "kubelet": {
                "Ready": ("Unknown", "NodeStatusUnknown", "Kubelet stopped posting node status.")
            },
            "runtime": {
                "Ready": (
                    "False",
                    "KubeletNotReady",
                    'container runtime is down: rpc error: code = Unavailable desc = connection error: desc = "transport: Error while dialing: dial unix /run/containerd/containerd.sock: connect: connection refused"',
                )
            },
            "cni": {
                "Ready": (
                    "False",
                    "KubeletNotReady",
                    "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized",
                )
            },
            "pleg": {
                "Ready": (
                    "False",
                    "KubeletNotReady",
                    "PLEG is not healthy: pleg was last seen active 4m12s ago; threshold is 3m0s",
                )
            },
            "disk": {
                "DiskPressure": ("True", "KubeletHasDiskPressure", "kubelet has disk pressure")
            },
            "memory": {
                "MemoryPressure": (
                    "True",
                    "KubeletHasInsufficientMemory",
                    "kubelet has insufficient memory available",
                )
            },
        }[kind]
        plan.nodes.append(
            {"name": node, "labels": {"pool": f"pinned-{v.serial}"}, "unmanaged": True}
        )
        plan.node_fault = {"node": node, "conditions": conditions, "kind": kind}
        spec = pod_spec(
            [container("app", v.image(v.app), v.port)], nodeSelector={"pool": f"pinned-{v.serial}"}
        )
        plan.objects.append(deployment(v.app, spec, 2))
        if kind in ("disk", "memory"):
            resource = "ephemeral-storage" if kind == "disk" else "memory"
            plan.raw_events.append(
                {
                    "kind": "Node",
                    "name": node,
                    "namespace": "default",
                    "type": "Warning",
                    "reason": "EvictionThresholdMet",
                    "message": f"Attempting to reclaim {resource}",
                    "count": 3,
                    "first": 600,
                    "last": 30,
                    "source": "kubelet",
                }
            )
        fault = {
            "kubelet": "kubelet-down",
            "runtime": "container-runtime-failure",
            "cni": "cni-network-failure",
            "pleg": "node-not-ready",
            "disk": "node-disk-pressure",
            "memory": "node-memory-pressure",
        }[kind]
        return Built(
            plan,
            Truth("infrastructure", fault, "Node", node),
            f"{v.app} in namespace {v.ns} lost its pods' readiness",
        )

    return build


FAULTS = [
    FaultType("service-selector-mismatch", "service-routing", "service-selector-mismatch", routing("selector")),
    FaultType("service-targetport-mismatch", "service-routing", "service-port-mismatch", routing("target-port")),
    FaultType("service-named-port-missing", "service-routing", "service-port-mismatch", routing("named-port")),
    FaultType("service-protocol-mismatch", "service-routing", "service-port-mismatch", routing("protocol")),
    FaultType("networkpolicy-ingress-deny", "service-routing", "network-policy-blocking", netpol("ingress")),
    FaultType("networkpolicy-egress-deny", "service-routing", "network-policy-blocking", netpol("egress")),
    FaultType("wrong-dependency-address", "service-routing", "wrong-dependency-address", wrong_address),
    FaultType("certificate-expired", "security", "certificate-expired", log_fault("cert")),
    FaultType("db-connection-limit", "database", "db-connection-limit", log_fault("db-limit")),
    FaultType("connection-pool-exhaustion", "performance", "connection-pool-exhaustion", log_fault("pool")),
    FaultType("bad-rollout", "change", "bad-deployment-rollout", bad_rollout),
    FaultType("kubelet-stopped", "infrastructure", "kubelet-down", node_fault("kubelet")),
    FaultType("container-runtime-down", "infrastructure", "container-runtime-failure", node_fault("runtime")),
    FaultType("cni-not-ready", "infrastructure", "cni-network-failure", node_fault("cni")),
    FaultType("node-pleg-not-ready", "infrastructure", "node-not-ready", node_fault("pleg")),
    FaultType("node-disk-pressure", "infrastructure", "node-disk-pressure", node_fault("disk")),
    FaultType("node-memory-pressure", "infrastructure", "node-memory-pressure", node_fault("memory")),
]  # fmt: skip

__all__ = ["FAULTS", "running"]
