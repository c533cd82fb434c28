"""Runtime failure signatures beyond the core table in signals.py.

Each pattern is a message that Kubernetes, the container runtime, the kernel
or a common client library prints for one failure mode: structured (JSON /
logfmt) log levels and latencies, configuration parse errors, file-system
permission errors, port conflicts, untrusted certificates, scheduler
predicates, rollout deadlines, autoscaler errors and missing API kinds.
"""

from __future__ import annotations

from nightshift.agent.reasoners.offline.matching import SignalPattern
from nightshift.agent.reasoners.offline.matching import compile_pattern as _p

K8S, LOG, NET, SEC = "k8s", "log", "net", "sec"

# Request durations in milliseconds >= 1 s (pino-http "responseTime",
# "duration_ms"...), or Go-style durations >= 1 s in logfmt; one flat
# alternative per field so each carries a literal for the prefilter.
_SLOW_MS = "|".join(
    rf"{f}\"?\s*[:=]\s*[1-9]\d{{3,}}(\.\d+)?\b"
    for f in (
        "responseTime",
        "response_time",
        "duration_ms",
        "latency_ms",
        "elapsed_ms",
        "took_ms",
        "request_time_ms",
    )
)
_SLOW_GO = "|".join(
    rf"\b{f}=\"?[1-9]\d*(\.\d+)?s\b" for f in ("latency", "duration", "elapsed", "took")
)

RUNTIME_PATTERNS: tuple[SignalPattern, ...] = (
    # Structured logs: pino/bunyan numeric levels (50 error, 60 fatal), zap /
    # logrus / structlog string levels, GCP-style "severity".
    _p(
        "app-exception",
        r"\"level\":\s*(50|60)\b|\"level\":\s*\"(error|fatal|critical|panic)\"|"
        r"\"lvl\":\s*\"(error|fatal|crit|panic)\"|"
        r"\"severity\":\s*\"(ERROR|CRITICAL|ALERT|EMERGENCY)\"",
        LOG,
    ),
    # Request durations in milliseconds >= 1 s (pino-http "responseTime",
    # "duration_ms"...), or Go-style durations >= 1 s in logfmt.
    _p("slow-op", _SLOW_MS + "|" + _SLOW_GO, LOG),
    # The kernel's OOM killer as printed in dmesg / node journal.
    _p("oomkilled", r"invoked oom-killer|Killed process \d+|oom-kill:", K8S, LOG),
    # urllib3 / requests and glibc resolver errors (EAI_AGAIN = -3, EAI_NONAME = -2).
    _p(
        "dns-fail",
        r"NameResolutionError|Failed to resolve '|\[Errno -[23]\]|"
        r"Could not resolve host|server misbehaving",
        LOG,
        NET,
    ),
    # Envoy / Istio: the upstream refused or reset the connection.
    _p(
        "dep-unreachable",
        r"upstream connect error or disconnect/reset before headers|"
        r"MongoServerSelectionError|MongoNetworkError|Communications link failure|"
        r"redis\.exceptions\.ConnectionError|Error connecting to Redis|"
        r"Max retries exceeded with url",
        LOG,
        NET,
    ),
    # libpq (PostgreSQL 14+) and MongoDB / MySQL drivers naming the server they could not reach.
    _p(
        "db-down",
        r"connection to server at [^\n]{0,120} failed|"
        r"connection to server on socket [^\n]{0,80} failed|"
        r"Is the server running on that host and accepting TCP/IP connections",
        LOG,
        "db",
    ),
    # A live process that stopped serving: JVM / Go deadlock reports, gunicorn
    # killing a stuck worker, Jetty/Hikari thread starvation, the kernel's
    # hung-task watchdog, Node's blocked event loop.
    _p(
        "app-hang",
        r"Found one Java-level deadlock|all goroutines are asleep - deadlock|"
        r"WORKER TIMEOUT \(pid|Thread starvation or clock leap detected|"
        r"blocked for more than \d+ seconds|thread pool (is )?(exhausted|saturated)|"
        r"event loop (is )?(blocked|stalled)|Rack::Timeout|"
        # Tomcat's and generic servers' "every worker busy", threads parked on a
        # lock, and BLOCKED threads in a dump: requests pile up, none completes.
        r"All threads \(\d+\) are currently busy|"
        r"(?P<busy>\d+) of (?P=busy) (worker |request |http )?threads (are )?busy|"
        r"waiting (on|for) [^\n]{0,60}lock for \d+ ?(ms|s)\b|"
        r"java\.lang\.Thread\.State: BLOCKED",
        LOG,
    ),
    # Configuration that does not parse (YAML / JSON / TOML / Spring / nginx).
    _p(
        "config-parse",
        r"yaml: (line \d+|unmarshal errors)|json: cannot unmarshal|"
        r"invalid character '.' (looking for|after)|error parsing (config|configuration)|"
        r"failed to (load|parse|read) (config|configuration)|"
        r"Could not resolve placeholder|APPLICATION FAILED TO START|"
        r"\[emerg\].*(unknown directive|invalid|unexpected)|"
        r"mapping values are not allowed|did not find expected key|"
        r"invalid (configuration|config) (key|option|value)|"
        r"unknown (configuration|config) (key|option)",
        LOG,
        K8S,
    ),
    # The process may not write where it wants (runAsNonRoot, readOnlyRootFilesystem).
    _p(
        "fs-permission",
        r"(mkdir|open|chown|chmod|bind|create|write)[^\n]{0,120}: permission denied|"
        r"EACCES|Read-only file system|EROFS|Operation not permitted",
        LOG,
    ),
    _p("port-in-use", r"address already in use|EADDRINUSE|port is already allocated", LOG, K8S),
    # TLS trust and name errors are not expiry, but are certificate faults.
    _p(
        "cert-untrusted",
        r"x509: certificate signed by unknown authority|unable to get local issuer certificate|"
        r"self[- ]signed certificate in certificate chain|x509: certificate is valid for|"
        r"PKIX path building failed|SSLHandshakeException",
        LOG,
        SEC,
        K8S,
    ),
    # Scheduler predicates not covered by the core table.
    _p(
        "sched-volume-zone",
        r"volume node affinity conflict|node\(s\) had volume node affinity conflict",
        K8S,
    ),
    _p("sched-ports", r"didn't have free ports for the requested pod ports", K8S),
    _p(
        "sched-node-gone",
        r"untolerated taint \{node\.kubernetes\.io/(unreachable|not-ready)|"
        r"node\(s\) were not ready|node\(s\) had taint \{node\.kubernetes\.io/(unreachable|"
        r"not-ready)",
        K8S,
    ),
    # Deployment condition Progressing=False after progressDeadlineSeconds.
    _p(
        "rollout-stuck",
        r"ProgressDeadlineExceeded|exceeded its progress deadline|"
        r"ReplicaSet \"?[\w.-]+\"? has timed out progressing",
        K8S,
    ),
    # HPA controller / KEDA operator events and conditions.
    _p(
        "hpa-limited",
        r"FailedGetScale|FailedComputeMetricsReplicas|FailedGetExternalMetric|"
        r"failed to get (cpu|memory) utilization|missing request for (cpu|memory)|"
        r"unable to get metrics for resource|KEDAScalerFailed|"
        r"ScalingActive\s+False|AbleToScale\s+False",
        K8S,
    ),
    # The API server does not know the kind: its CRD (operator) is not installed.
    _p(
        "kind-not-installed",
        r"the server doesn't have a resource type|no matches for kind|"
        r"could not find the requested resource|resource mapping not found",
        K8S,
    ),
    # Back-off pulling an image (the kubelet's BackOff event for pulls).
    _p("image-pull", r"Back-off pulling image|ErrImageNeverPull", K8S),
    # Init containers still running or failing (kubectl get pods STATUS column).
    _p("init-waiting", r"\bInit:\d+/\d+\b|PodInitializing", K8S),
)

RUNTIME_FAULTS: dict[str, tuple[tuple[str, float], ...]] = {
    "config-parse": (("crashloop-app-error", 0.5), ("config-change-regression", 0.35)),
    "fs-permission": (("crashloop-app-error", 0.5), ("pod-security-policy-violation", 0.15)),
    "port-in-use": (("crashloop-app-error", 0.55),),
    "cert-untrusted": (("certificate-expired", 0.5), ("wrong-dependency-address", 0.2)),
    "sched-volume-zone": (("volume-mount-failure", 0.6), ("node-selector-mismatch", 0.3)),
    "sched-ports": (("insufficient-cluster-resources", 0.7),),
    "sched-node-gone": (("node-not-ready", 0.6),),
    "rollout-stuck": (("bad-deployment-rollout", 0.45),),
    "kind-not-installed": (),  # read in context: see analyzers (autoscaler kinds)
    "autoscaler-missing": (("hpa-max-replicas", 0.55),),
    "init-waiting": (("init-container-failure", 0.3),),
    "app-hang": (("application-deadlock-hang", 0.6),),
    "root-exception": (("crashloop-app-error", 0.45),),  # the innermost error of a trace
    "init-container-failed": (("init-container-failure", 0.8),),  # its own describe section
    "exit-137": (("oom-killed", 0.45), ("liveness-probe-misconfigured", 0.2)),
}
