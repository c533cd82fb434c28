"""Signals from the names of well-known alerting rules.

Alert payloads often carry little more than the rule's name: the
kube-prometheus-stack / kubernetes-mixin rules (runbooks.prometheus-operator.dev)
and the node-exporter and CoreDNS mixins name their condition precisely, so
the name alone is a (weak to medium) signal. Names that the generic table in
signals.py already reads (KubePodCrashLooping, CPUThrottlingHigh,
KubeletTooManyPods, KubeJobFailed, KubeSchedulerDown) are not repeated here.
The ``Watchdog`` / ``InfoInhibitor`` rules fire by design and are no signal.
"""

from __future__ import annotations

from nightshift.agent.reasoners.offline.matching import SignalPattern
from nightshift.agent.reasoners.offline.matching import compile_pattern as _p

_A = "alert"

ALERT_PATTERNS: tuple[SignalPattern, ...] = (
    # requests vs allocatable: the cluster cannot absorb a node loss / new pods
    _p(
        "alert-overcommit",
        r"Kube(CPU|Memory)(Quota)?Overcommit|overcommitted (CPU|memory) resource requests",
        _A,
    ),
    _p("alert-quota", r"KubeQuota(Exceeded|FullyUsed)", _A),
    _p("alert-hpa-maxed", r"KubeHpaMaxedOut|KubeHpaReplicasMismatch", _A),
    _p(
        "alert-rollout-stuck",
        r"KubeDeploymentRolloutStuck|KubeDeploymentGenerationMismatch|"
        r"KubeStatefulSetUpdateNotRolledOut|KubeDaemonSetRolloutStuck",
        _A,
    ),
    _p(
        "alert-replicas-mismatch",
        r"Kube(Deployment|StatefulSet)ReplicasMismatch|KubeDaemonSetMisScheduled|"
        r"KubePodNotReady|KubeContainerWaiting",
        _A,
    ),
    _p("alert-job-stuck", r"KubeJobNotCompleted|KubeJobCompletion", _A),
    _p("alert-pv-filling", r"KubePersistentVolume(Inodes)?FillingUp", _A),
    _p("alert-pv-errors", r"KubePersistentVolumeErrors", _A),
    _p(
        "alert-node-fs",
        r"NodeFilesystem(SpaceFillingUp|AlmostOutOfSpace|FilesFillingUp|AlmostOutOfFiles)",
        _A,
    ),
    _p("alert-node-down", r"KubeNodeNotReady|KubeNodeUnreachable|KubeNodeReadinessFlapping", _A),
    _p("alert-kubelet-down", r"KubeletDown|KubeletPlegDurationHigh", _A),
    _p(
        "alert-node-memory",
        r"NodeMemoryHighUtilization|NodeMemoryMajorPagesFaults|NodeSystemSaturation",
        _A,
    ),
    _p("alert-node-cpu", r"NodeCPUHighUsage|NodeLoadHigh", _A),
    _p(
        "alert-node-network",
        r"NodeNetwork(Receive|Transmit)Errs|NodeNetworkInterfaceFlapping",
        _A,
    ),
    _p(
        "alert-apiserver",
        r"KubeAPIDown|KubeAPIErrorBudgetBurn|KubeAggregatedAPIDown|KubeAggregatedAPIErrors|"
        r"etcdNoLeader|etcdInsufficientMembers|KubeControllerManagerDown",
        _A,
    ),
    _p(
        "alert-cert-expiry",
        r"Kube(let)?(Client|Server)CertificateExpiration|KubeClientCertificateExpiration|"
        r"CertManagerCertExpirySoon|CertificateExpir",
        _A,
    ),
    _p("alert-dns", r"CoreDNSDown|KubeDNSDown|CoreDNSErrorsHigh|CoreDNSForwardErrorsHigh", _A),
)

ALERT_FAULTS: dict[str, tuple[tuple[str, float], ...]] = {
    "alert-overcommit": (("insufficient-cluster-resources", 0.6),),
    "alert-quota": (("resource-quota-exceeded", 0.6),),
    "alert-hpa-maxed": (("hpa-max-replicas", 0.7),),
    "alert-rollout-stuck": (("bad-deployment-rollout", 0.45),),
    "alert-replicas-mismatch": (),  # the symptom only: the pods tell why
    "alert-job-stuck": (("job-failed", 0.35),),
    "alert-pv-filling": (("db-disk-full", 0.55),),
    "alert-pv-errors": (("volume-mount-failure", 0.5), ("pvc-unbound", 0.3)),
    "alert-node-fs": (("node-disk-pressure", 0.65),),
    "alert-node-down": (("node-not-ready", 0.7),),
    "alert-kubelet-down": (("kubelet-down", 0.7), ("container-runtime-failure", 0.2)),
    "alert-node-memory": (("node-memory-pressure", 0.6),),
    "alert-node-cpu": (("cpu-saturation", 0.5),),
    "alert-node-network": (("packet-loss", 0.6),),
    "alert-apiserver": (("control-plane-api-unavailable", 0.7),),
    "alert-cert-expiry": (("certificate-expired", 0.6),),
    "alert-dns": (("dns-resolution-failure", 0.7),),
}
