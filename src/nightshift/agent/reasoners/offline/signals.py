"""Text patterns that turn raw tool output into named signals.

Each pattern names a *signal* (what Kubernetes or the application reported),
not a fault: the mapping from signals to candidate faults lives in faults.py.
Patterns follow how these systems actually print failures (event reasons,
container state reasons, exit codes, client library error strings).
"""

from __future__ import annotations

from nightshift.agent.reasoners.offline import matching
from nightshift.agent.reasoners.offline.matching import SignalPattern
from nightshift.agent.reasoners.offline.matching import compile_pattern as _p
from nightshift.agent.reasoners.offline.signals_alerts import ALERT_PATTERNS
from nightshift.agent.reasoners.offline.signals_data import DATA_PATTERNS
from nightshift.agent.reasoners.offline.signals_runtime import RUNTIME_PATTERNS

K8S, LOG, NET, DB, SEC, ALERT = "k8s", "log", "net", "db", "sec", "alert"
ALL = (K8S, LOG, NET, DB, SEC, ALERT)

CORE_PATTERNS: tuple[SignalPattern, ...] = (
    # admission
    _p("quota-exceeded", r"exceeded quota|forbidden: exceeded", K8S, ALERT),
    _p(
        "limitrange-violation",
        r"(maximum|minimum) (cpu|memory|ephemeral-storage) usage per (container|pod)|"
        r"max limit to request ratio per (container|pod)",
        K8S,
    ),
    _p(
        "serviceaccount-missing",
        r"serviceaccount[s]? \"?[\w.-]+\"? not found|error looking up service account",
        K8S,
    ),
    _p("webhook-denied", r"admission webhook .* denied|failed calling webhook", K8S),
    _p("podsecurity-violation", r"violates PodSecurity|blocked due to the following polic", K8S),
    _p(
        "rbac-forbidden",
        r"forbidden: User \"system:serviceaccount|cannot (list|get|watch|create|patch) resource",
        K8S,
        LOG,
    ),
    # scheduling
    _p(
        "sched-insufficient",
        r"Insufficient (cpu|memory|nvidia\.com/gpu|[\w./-]*gpu|ephemeral-storage|pods)",
        K8S,
    ),
    _p(
        "sched-selector",
        r"didn't match Pod's node affinity|didn't match node selector|node\(s\) didn't match node",
        K8S,
    ),
    # the pod names a claim that does not exist: nothing to bind, the mount is wrong
    _p("pvc-not-found", r"persistentvolumeclaim \"[\w.-]+\" not found", K8S),
    _p("sched-antiaffinity", r"didn't match pod (anti-)?affinity|pod topology spread", K8S),
    _p(
        "sched-taint",
        r"untolerated taint \{(?!node-role\.kubernetes\.io/(control-plane|"
        r"master))|had taint.*didn't tolerate",
        K8S,
    ),
    _p("sched-cordoned", r"node\(s\) were unschedulable|SchedulingDisabled", K8S),
    _p(
        "sched-pvc",
        r"unbound immediate PersistentVolumeClaims|pod has unbound",
        K8S,
    ),
    _p(
        "pvc-provisioning",
        r"ProvisioningFailed|storageclass\.storage\.k8s\.io \"[\w.-]+\" not found|"
        r"no persistent volumes available",
        K8S,
    ),
    _p(
        "pvc-pending",
        r"waiting for first consumer|waiting for a volume to be created|"
        r"persistentvolumeclaim.*\bPending\b",
        K8S,
    ),
    _p(
        "sched-disk-pressure", r"had (untolerated taint \{node\.kubernetes\.io/)?disk.pressure", K8S
    ),
    _p(
        "volume-mount",
        r"FailedAttachVolume|Multi-Attach error|"
        r"MountVolume\.\w+ failed(?! for volume \"[\w.-]+\" : (configmap|secret))|"
        r"Unable to attach or mount",
        K8S,
    ),
    # start-up
    _p("image-pull", r"ErrImagePull|ImagePullBackOff|Failed to pull image", K8S, ALERT),
    _p(
        "image-notfound",
        # "repository does not exist or may require authorization" is the
        # registry's ambiguous answer to a missing login, so it is not here.
        r"manifest unknown|manifest for .* not found|not found: manifest|"
        r"repository does not exist(?! or may require)|InvalidImageName|"
        r"failed to resolve reference[^\n]*: not found",
        K8S,
    ),
    _p(
        "image-auth-explicit",
        r"authorization failed|no basic auth credentials|401 Unauthorized|403 Forbidden|"
        r"unauthorized: authentication required|denied: requested access",
        K8S,
    ),
    _p(
        "image-auth",
        r"pull access denied|unauthorized: |authentication required|"
        r"no basic auth credentials|denied: requested access",
        K8S,
    ),
    _p(
        "image-network",
        r"Failed to pull image.*(no such host|i/o timeout|TLS handshake timeout|"
        r"connection refused|x509|toomanyrequests)",
        K8S,
    ),
    _p(
        "configmap-missing",
        r"configmaps? \"[\w.-]+\" not found|couldn't find key [\w.-]+ in ConfigMap",
        K8S,
    ),
    _p(
        "secret-missing", r"secrets? \"[\w.-]+\" not found|couldn't find key [\w.-]+ in Secret", K8S
    ),
    _p("config-error", r"CreateContainerConfigError", K8S, ALERT),
    _p(
        "bad-command",
        r"executable file not found|exec format error|StartError|"
        r"RunContainerError|OCI runtime (create|exec) failed|"
        r": not found$|sh: [\w./-]+: not found|exit code:?\s*12[67]\b",
        K8S,
        LOG,
    ),
    _p("shell-syntax", r"syntax error: unexpected|/bin/\w*sh: .*syntax error", LOG, K8S),
    _p("init-failure", r"Init:(CrashLoopBackOff|Error)", K8S),
    # runtime
    _p(
        "oomkilled",
        r"OOMKilled|OOMKilling|memory cgroup out of memory",
        K8S,
        ALERT,
    ),
    _p(
        "oom-log",
        r"OutOfMemoryError|java\.lang\.OutOfMemory|Cannot allocate memory|"
        r"MemoryError|out of memory",
        LOG,
    ),
    _p(
        "crashloop",
        r"CrashLoopBackOff|Back-off restarting failed container|"
        r"\bBackOff\b(?! ?limit)(?![^\n]*pulling image)|crash ?looping",
        K8S,
        ALERT,
    ),
    # SIGKILL: the OOM killer, or the kubelet after a failed liveness probe.
    _p("exit-137", r"Exit Code:\s+137|exit code:? 137", K8S, ALERT),
    _p("too-many-pods", r"TooManyPods|too many pods|Insufficient pods", K8S, ALERT),
    _p("container-error", r"Reason:\s+Error|Exit Code:\s+[1-9]\d*", K8S),
    _p(
        "app-exception",
        r"Traceback \(most recent|panic:|Exception in thread|"
        r"\w+Exception\b|Exception:|Unhandled exception|FATAL|"
        r"fatal error|StackOverflowError|segmentation fault|"
        r"\bERROR\b|\[error\]|level=error",
        LOG,
    ),
    _p(
        "env-missing",
        r"environment variable \S+ (is )?(undefined|not set|"
        r"missing|required|is empty)|\bKeyError: '[A-Z_]+'|missing required (env|"
        r"environment|configuration)|\$?\{?[A-Z][A-Z0-9_]{2,}\}? (is )?undefined|"
        r"\$?\{?[A-Z][A-Z0-9_]{2,}\}? (is )?not set",
        LOG,
    ),
    _p("liveness-failed", r"Liveness probe failed|failed liveness probe", K8S),
    _p("readiness-failed", r"Readiness probe failed", K8S),
    _p("startup-failed", r"Startup probe failed", K8S),
    _p("probe-refused", r"probe failed: .*connection refused|probe failed: .*dial tcp", K8S),
    _p(
        "job-backoff",
        r"BackoffLimitExceeded|(?<!Progress)DeadlineExceeded|"
        r"Job has reached the specified backoff limit|"
        r"JobFailed|KubeJobFailed",
        K8S,
        ALERT,
    ),
    # routing and network
    # An alert row saying something is failing: no fault of its own, but its
    # start time tells when the incident began.
    _p(
        "alert-failing",
        r"fail|unavailable|not ready|NotReady|\b5xx\b|\berrors?\b|\bdown\b|timeout|latency",
        ALERT,
    ),
    _p(
        "endpoints-none",
        r"(?m)^\s*Endpoints:[ \t]*(<none>)?[ \t]*$|has no (ready )?endpoints|no healthy upstream|"
        r"no endpoints available",
        K8S,
        LOG,
        NET,
    ),
    _p(
        "dep-unreachable",
        r"host\(s\) tried .* failed|no available connection|"
        r"failed to connect|unable to connect|could not connect|"
        r"cannot connect|connection (failed|error)|Network Exception|"
        r"ECONNRESET|EHOSTUNREACH|no route to host|network is unreachable",
        LOG,
        NET,
    ),
    _p("conn-refused", r"connection refused|ECONNREFUSED|Connection refused", LOG, NET),
    _p(
        "dns-fail",
        r"no such host|NXDOMAIN|Temporary failure in name resolution|"
        r"Name or service not known|could not translate host name|"
        r"getaddrinfo|could not resolve host|Could not resolve|"
        r"UnknownHostException|ENOTFOUND|EAI_AGAIN|SERVFAIL|could not be resolved",
        LOG,
        NET,
        K8S,
    ),
    _p(
        "timeout",
        r"i/o timeout|connection timed out|timed out|context deadline exceeded|"
        r"ETIMEDOUT|deadline exceeded|upstream request timeout|"
        r"Read timed out|timeout",
        LOG,
        NET,
    ),
    _p(
        "net-blocked",
        r"\bblocked\b|\bfiltered\b|\bDROP\b|\bREJECT\b|\bdenied by (policy|rule)\b|\bdeny\b",
        NET,
    ),
    _p("packet-loss", r"packet loss|retransmi|\b[1-9]\d*(\.\d+)?% (packet )?loss", NET, LOG, ALERT),
    _p("netpol-deny", r"default-deny|policyTypes:\s*\n\s*-\s*Egress|NetworkPolicy", K8S, NET),
    _p("conn-reset", r"connection reset|ECONNRESET|broken pipe", LOG, NET),
    # performance
    _p("throttling", r"CPUThrottling|throttl", K8S, LOG, ALERT),
    _p("cpu-high", r"high cpu|CPU usage (is )?(above|high)|cpu saturat", LOG, ALERT),
    _p(
        "latency",
        r"high latency|latency|slow response|took \d+(\.\d+)?\s?(s|sec|seconds)\b|p99|p95|p90",
        LOG,
        ALERT,
    ),
    _p(
        "slow-db-call",
        r"(database|db|query|sql|stored procedure)[^\n]{0,60}"
        r"(completed|took|finished|returned|executed) in [1-9]\d*(\.\d+)?\s?(s|sec|secs|seconds)\b",
        LOG,
    ),
    _p(
        "slow-op",
        # one alternative per verb so each carries a literal for the prefilter
        "|".join(
            rf"{verb} in [1-9]\d*(\.\d+)?\s?(s|sec|secs|seconds)\b"
            for verb in ("completed", "took", "finished", "rendered", "responded", "served")
        ),
        LOG,
    ),
    _p(
        "pool-exhausted",
        r"pool (is )?exhaust|exhausted pool|timeout waiting for (a )?connection|"
        r"Connection is not available|could not (obtain|acquire|"
        r"get) (a )?connection|QueuePool limit|pool timeout|"
        r"waiting for connection|connection pool|"
        # pgbouncer: clients waited too long for a server connection / hit the client cap
        r"query_wait_timeout|no more connections allowed|max_client_conn|cl_waiting",
        LOG,
        DB,
        ALERT,
    ),
    _p(
        "too-many-conns",
        r"too many (connections|clients)|remaining connection slots|"
        # near the limit only: "max_connections: 300 current: 7 (2%)" is a healthy read-out
        r"(9\d|100)% of max_connections|max_connections:[^\n(]*\((9\d|100)%\)|"
        r"max_connections (reached|exceeded)|ran out of (free )?connections",
        LOG,
        DB,
        ALERT,
    ),
    _p(
        "memory-pressure",
        # a node condition printed False ("MemoryPressure False ... KubeletHasSufficientMemory")
        # is every healthy node's describe text, not pressure
        r"MemoryPressure(?![ \t]+False)|memory pressure|low on resource: memory|SystemOOM",
        K8S,
        LOG,
        ALERT,
    ),
    _p(
        "hpa-limited",
        r"ScalingLimited(?![ \t]+False)|FailedGetResourceMetric|unable to fetch metrics|"
        r"desired replica count is more than the maximum",
        K8S,
    ),
    # infrastructure
    _p("node-notready", r"\bNotReady\b|NodeNotReady", K8S, ALERT),
    _p(
        "kubelet-stopped",
        r"Kubelet stopped posting node status|NodeStatusUnknown|"
        r"kubelet (is )?(down|not running|stopped)",
        K8S,
        ALERT,
    ),
    _p(
        "runtime-down",
        r"PLEG is not healthy|container runtime is down|container runtime (status check )?(failed|"
        r"not ready)|failed to create containerd task|containerd.*(unavailable|"
        r"not running)",
        K8S,
        ALERT,
    ),
    _p(
        "cni-fail",
        r"network plugin is not ready|cni (config )?uninitialized|"
        r"failed to set up sandbox container .*network|FailedCreatePodSandBox|"
        r"NetworkPluginNotReady",
        K8S,
    ),
    _p(
        "kube-proxy",
        r"kube-proxy.*(CrashLoopBackOff|Error|failed|not running)|iptables-restore.*failed",
        K8S,
        ALERT,
    ),
    _p(
        "scheduler-down",
        r"kube-scheduler.*(CrashLoopBackOff|Error|not running|"
        r"down|0/1)|no scheduler|KubeSchedulerDown",
        K8S,
        ALERT,
    ),
    _p(
        "disk-pressure",
        # not "DiskPressure False" nor the "ephemeral-storage: 100Gi" capacity line
        r"(?<!HasNo)DiskPressure(?![ \t]+False)|low on resource: ephemeral-storage|"
        r"ephemeral.storage(?!:?[ \t]+\d)|"
        r"FreeDiskSpaceFailed|ImageGCFailed|(?<!no )disk pressure",
        K8S,
        ALERT,
    ),
    _p("evicted", r"\bEvicted\b", K8S),
    _p(
        "apiserver-down",
        r"the server is currently unable to handle|etcdserver: request timed out|"
        r"connection to the server .* was refused",
        K8S,
        ALERT,
    ),
)

PATTERNS: tuple[SignalPattern, ...] = (
    CORE_PATTERNS + DATA_PATTERNS + RUNTIME_PATTERNS + ALERT_PATTERNS
)


def match_signals(text: str, source: str) -> list[tuple[str, str]]:
    """(signal, matching line) pairs for patterns applicable to ``source``."""
    return matching.match_signals(PATTERNS, text, source)


def match_by_line(text: str, source: str) -> dict[int, list[tuple[str, str]]]:
    """Signals per line of a table (see matching.match_by_line)."""
    return matching.match_by_line(PATTERNS, text, source)
