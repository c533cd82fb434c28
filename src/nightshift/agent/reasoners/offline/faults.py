"""Finding -> fault mapping: which taxonomy faults each signal supports.

Weights are likelihoods that the fault is the cause given the signal alone;
generic symptoms (a crash loop, a timeout) spread low weight over several
faults, specific messages (OOMKilled, "exceeded quota") put high weight on
one. ``SYMPTOM_FAULTS`` are faults that are usually effects of something
else; their confidence is capped until the causes have been looked for.
"""

from __future__ import annotations

from collections.abc import Mapping

from nightshift.agent.reasoners.offline.signals_alerts import ALERT_FAULTS
from nightshift.agent.reasoners.offline.signals_runtime import RUNTIME_FAULTS

W = tuple[tuple[str, float], ...]

SIGNAL_FAULTS: Mapping[str, W] = {
    "quota-exceeded": (("resource-quota-exceeded", 0.95),),
    "limitrange-violation": (("limit-range-violation", 0.9),),
    "serviceaccount-missing": (("missing-service-account", 0.95),),
    "webhook-denied": (("admission-webhook-denied", 0.9),),
    "podsecurity-violation": (("pod-security-policy-violation", 0.9),),
    "rbac-forbidden": (("rbac-forbidden", 0.85),),
    "sched-insufficient": (("insufficient-cluster-resources", 0.9),),
    "too-many-pods": (("insufficient-cluster-resources", 0.6),),
    "sched-selector": (("node-selector-mismatch", 0.9),),
    "sched-antiaffinity": (("pod-anti-affinity-conflict", 0.85),),
    "sched-taint": (("untolerated-taint", 0.75),),
    "sched-cordoned": (("node-cordoned", 0.85),),
    "sched-pvc": (("pvc-unbound", 0.85),),
    "pvc-not-found": (("volume-mount-failure", 0.9),),
    "pvc-provisioning": (("pvc-unbound", 0.9),),
    "pvc-pending": (("pvc-unbound", 0.6),),
    "sched-disk-pressure": (("node-disk-pressure", 0.8),),
    "volume-mount": (("volume-mount-failure", 0.8),),
    "image-pull": (
        ("image-reference-invalid", 0.45),
        ("image-pull-secret-missing", 0.3),
        ("registry-unreachable", 0.2),
    ),
    "image-notfound": (("image-reference-invalid", 0.85),),
    "image-auth-explicit": (("image-pull-secret-missing", 0.85),),
    "image-auth": (("image-pull-secret-missing", 0.6), ("image-reference-invalid", 0.4)),
    "image-network": (("registry-unreachable", 0.8),),
    "configmap-missing": (("missing-configmap", 0.92),),
    "secret-missing": (("missing-secret", 0.92),),
    "config-error": (("missing-configmap", 0.3), ("missing-secret", 0.3)),
    "bad-command": (("bad-command-entrypoint", 0.88),),
    "shell-syntax": (("bad-command-entrypoint", 0.75),),
    "init-failure": (("init-container-failure", 0.6),),
    "oomkilled": (("oom-killed", 0.92),),
    "oom-log": (("oom-killed", 0.5), ("memory-pressure-leak", 0.35)),
    "crashloop": (("crashloop-app-error", 0.35),),
    "container-error": (("crashloop-app-error", 0.3),),
    "app-exception": (("crashloop-app-error", 0.4),),
    "env-missing": (("missing-env-var", 0.9),),
    "liveness-failed": (("liveness-probe-misconfigured", 0.55),),
    "readiness-failed": (("readiness-probe-misconfigured", 0.55),),
    "startup-failed": (("startup-probe-too-short", 0.6),),
    "probe-port-mismatch": (("liveness-probe-misconfigured", 0.9),),
    "readiness-port-mismatch": (("readiness-probe-misconfigured", 0.9),),
    "probe-refused": (),
    "job-backoff": (("job-failed", 0.45),),
    "endpoints-none": (("service-selector-mismatch", 0.55),),
    "selector-matches-nothing": (("service-selector-mismatch", 0.92),),
    "target-port-mismatch": (("service-port-mismatch", 0.9),),
    "dep-unreachable": (
        ("db-unavailable", 0.35),
        ("wrong-dependency-address", 0.3),
        ("network-policy-blocking", 0.2),
    ),
    "conn-refused": (("wrong-dependency-address", 0.35), ("db-unavailable", 0.2)),
    "dns-fail": (("wrong-dependency-address", 0.5), ("dns-resolution-failure", 0.45)),
    "dns-nxdomain": (("wrong-dependency-address", 0.75), ("dns-resolution-failure", 0.3)),
    # The per-pod record of a StatefulSet pod is gone: the pod is not ready. It
    # names no fault of its own; the pod's (or its node's) state explains it.
    "dns-pod-record-missing": (),
    "dns-servfail": (("dns-resolution-failure", 0.85),),
    "timeout": (
        ("network-policy-blocking", 0.25),
        ("high-latency-dependency", 0.3),
        ("firewall-rule-change", 0.2),
    ),
    "rule-changed": (("firewall-rule-change", 0.45),),
    "net-blocked": (("network-policy-blocking", 0.55), ("firewall-rule-change", 0.5)),
    "netpol-deny": (("network-policy-blocking", 0.6),),
    "netpol-restricts": (("network-policy-blocking", 0.6),),
    "packet-loss": (("packet-loss", 0.8),),
    "conn-reset": (("packet-loss", 0.3),),
    "throttling": (("cpu-throttling", 0.85),),
    "cpu-high": (("cpu-saturation", 0.6),),
    "latency": (("high-latency-dependency", 0.35), ("db-slow-query", 0.2)),
    "alert-failing": (),
    "slow-db-call": (("db-slow-query", 0.75), ("high-latency-dependency", 0.3)),
    "slow-op": (("high-latency-dependency", 0.45),),
    "pool-exhausted": (("connection-pool-exhaustion", 0.75),),
    "too-many-conns": (("db-connection-limit", 0.7), ("connection-pool-exhaustion", 0.35)),
    "memory-pressure": (("node-memory-pressure", 0.7), ("memory-pressure-leak", 0.3)),
    "hpa-limited": (("hpa-max-replicas", 0.8),),
    "node-notready": (("node-not-ready", 0.65),),
    "kubelet-stopped": (("kubelet-down", 0.9),),
    "runtime-down": (("container-runtime-failure", 0.88),),
    "cni-fail": (("cni-network-failure", 0.8),),
    # a node condition the kubelet set (node_diagnostics): the node is the object to repair
    "node-cond-notready": (("node-not-ready", 0.85),),
    "node-cond-memory": (("node-memory-pressure", 0.9),),
    "node-cond-disk": (("node-disk-pressure", 0.9),),
    "kube-proxy": (("kube-proxy-failure", 0.85),),
    "scheduler-down": (("scheduler-unavailable", 0.85),),
    "pending-no-events": (("scheduler-unavailable", 0.4),),
    "disk-pressure": (("node-disk-pressure", 0.8),),
    "evicted": (("node-disk-pressure", 0.3), ("node-memory-pressure", 0.3)),
    "apiserver-down": (("control-plane-api-unavailable", 0.85),),
    "cert-expired": (("certificate-expired", 0.9),),
    "auth-failed": (("credential-rotation-auth-failure", 0.65),),
    "waf-block": (("security-block-waf", 0.7),),
    "db-locks": (("db-lock-contention", 0.8),),
    "db-slow": (("db-slow-query", 0.7),),
    "db-disk": (("db-disk-full", 0.75),),
    "db-replication": (("db-replication-lag", 0.8),),
    "schema-error": (("db-schema-migration-change", 0.6), ("crashloop-app-error", 0.2)),
    "db-down": (("db-unavailable", 0.6),),
    **RUNTIME_FAULTS,
    **ALERT_FAULTS,
}

# Faults that are usually effects; capped until causes have been looked for.
SYMPTOM_FAULTS = frozenset(
    {
        "crashloop-app-error",
        "job-failed",
        "high-latency-dependency",
        "connection-pool-exhaustion",
        "db-connection-limit",
        "readiness-probe-misconfigured",
        "liveness-probe-misconfigured",
        "network-policy-blocking",
        "wrong-dependency-address",
        "cpu-saturation",
    }
)

# Change kinds (from a change log line) -> the change-induced fault they name.
CHANGE_FAULTS: Mapping[str, str] = {
    "firewall": "firewall-rule-change",
    "security-group": "firewall-rule-change",
    "networkpolicy": "network-policy-change",
    "network-policy": "network-policy-change",
    "netpol": "network-policy-change",
    "schema": "db-schema-migration-change",
    "migration": "db-schema-migration-change",
    "config": "config-change-regression",
    "configmap": "config-change-regression",
    "feature-flag": "config-change-regression",
    "credential": "credential-rotation-auth-failure",
    "secret": "credential-rotation-auth-failure",
    "certificate": "certificate-expired",
    "deployment": "bad-deployment-rollout",
    "rollout": "bad-deployment-rollout",
    "image": "bad-deployment-rollout",
    "infrastructure": "infrastructure-change",
    "node": "infrastructure-change",
}

# Which symptom faults each change-induced fault can explain (topology of cause).
EXPLAINS: Mapping[str, frozenset[str]] = {
    "firewall-rule-change": frozenset(
        {
            "readiness-probe-misconfigured",
            "dns-resolution-failure",
            "crashloop-app-error",
            "network-policy-blocking",
            "high-latency-dependency",
            "connection-pool-exhaustion",
            "db-connection-limit",
            "packet-loss",
            "wrong-dependency-address",
            "db-unavailable",
        }
    ),
    "network-policy-change": frozenset(
        {
            "readiness-probe-misconfigured",
            "crashloop-app-error",
            "wrong-dependency-address",
            "network-policy-blocking",
            "dns-resolution-failure",
            "high-latency-dependency",
            "connection-pool-exhaustion",
            "db-unavailable",
        }
    ),
    "db-schema-migration-change": frozenset(
        {
            "db-lock-contention",
            "db-slow-query",
            "crashloop-app-error",
            "connection-pool-exhaustion",
            "high-latency-dependency",
        }
    ),
    "config-change-regression": frozenset(
        {
            "wrong-dependency-address",
            "missing-env-var",
            "crashloop-app-error",
            "readiness-probe-misconfigured",
            "liveness-probe-misconfigured",
            "service-port-mismatch",
            "connection-pool-exhaustion",
            "missing-configmap",
        }
    ),
    "bad-deployment-rollout": frozenset(
        {
            "crashloop-app-error",
            "oom-killed",
            "readiness-probe-misconfigured",
            "liveness-probe-misconfigured",
            "image-reference-invalid",
            "high-latency-dependency",
            "missing-env-var",
            "bad-command-entrypoint",
            "cpu-saturation",
            "memory-pressure-leak",
            "service-selector-mismatch",
            "connection-pool-exhaustion",
        }
    ),
    "credential-rotation-auth-failure": frozenset({"crashloop-app-error", "db-unavailable"}),
    "infrastructure-change": frozenset({"node-not-ready", "dns-resolution-failure"}),
}
