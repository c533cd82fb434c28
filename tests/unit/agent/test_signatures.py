# ruff: noqa: E501  (runtime messages are quoted verbatim, long as they are)
"""Generic failure signatures: each reads as the message Kubernetes, the runtime
or a client library prints for one failure mode, across kubectl output variants."""

from __future__ import annotations

import pytest

from nightshift.agent.investigation import investigate
from nightshift.agent.reasoners.offline.analyzers import analyze
from nightshift.agent.reasoners.offline.matching import excerpt
from nightshift.agent.reasoners.offline.sections import (
    callers,
    distinct_lines,
    init_failures,
    root_error,
)
from nightshift.agent.reasoners.offline.signals import PATTERNS, match_signals
from nightshift.agent.reasoners.offline.topology import Topology
from nightshift.agent.request import InvestigationRequest
from nightshift.agent.tools.protocol import ToolCall, ToolResult, ToolStatus
from nightshift.agent.tools.static import StaticToolset
from tests.unit.agent import kube_variants as v


def _signals(text: str, source: str = "log") -> set[str]:
    return {s for s, _ in match_signals(text, source)}


@pytest.mark.parametrize(
    ("line", "source", "signal"),
    [
        (
            "KubeCPUOvercommit warning Cluster has overcommitted CPU resource requests.",
            "alert",
            "alert-overcommit",
        ),
        (
            "KubeHpaMaxedOut  HPA shop/checkout has been running at max replicas for 15m",
            "alert",
            "alert-hpa-maxed",
        ),
        (
            "KubeNodeNotReady  node-c has been unready for more than 15 minutes",
            "alert",
            "alert-node-down",
        ),
        ("KubePersistentVolumeFillingUp  PVC data-pg-0 is 97% full", "alert", "alert-pv-filling"),
        (
            "CoreDNSDown  CoreDNS has disappeared from Prometheus target discovery",
            "alert",
            "alert-dns",
        ),
        (
            '{"level":50,"time":1763700000000,"msg":"payment declined upstream"}',
            "log",
            "app-exception",
        ),
        ('{"level":"error","ts":1763700000.1,"msg":"reconcile failed"}', "log", "app-exception"),
        ('{"severity":"ERROR","message":"could not publish event"}', "log", "app-exception"),
        ('{"level":30,"msg":"request completed","responseTime":4210.7}', "log", "slow-op"),
        ('level=info msg="GET /api/v1/quote" status=200 latency=2.75s', "log", "slow-op"),
        ("yaml: line 14: mapping values are not allowed in this context", "log", "config-parse"),
        (
            "json: cannot unmarshal string into Go struct field Config.port of type int",
            "log",
            "config-parse",
        ),
        (
            'nginx: [emerg] unknown directive "proxy_pas" in /etc/nginx/conf.d/default.conf:12',
            "log",
            "config-parse",
        ),
        (
            'nginx: [emerg] mkdir() "/var/cache/nginx/client_temp" failed (13: Permission denied)',
            "log",
            "fs-permission",
        ),
        ("OSError: [Errno 30] Read-only file system: '/app/tmp'", "log", "fs-permission"),
        ("listen tcp :8080: bind: address already in use", "log", "port-in-use"),
        (
            'Get "https://vault.internal:8200/v1/sys/health": x509: certificate signed by unknown authority',
            "log",
            "cert-untrusted",
        ),
        (
            "HTTPConnectionPool(host='inventory.shop', port=80): Max retries exceeded with url: /items (Caused by NameResolutionError(\"Failed to resolve 'inventory.shop' ([Errno -3] Try again)\"))",
            "log",
            "dns-fail",
        ),
        (
            "upstream connect error or disconnect/reset before headers. reset reason: connection failure",
            "log",
            "dep-unreachable",
        ),
        (
            "Memory cgroup out of memory: Killed process 4121 (java) total-vm:4194304kB",
            "k8s",
            "oomkilled",
        ),
        ('Deployment "api" exceeded its progress deadline', "k8s", "rollout-stuck"),
        ("Progressing    False   ProgressDeadlineExceeded", "k8s", "rollout-stuck"),
        (
            "failed to get cpu utilization: missing request for cpu in container web",
            "k8s",
            "hpa-limited",
        ),
        (
            "0/5 nodes are available: 5 node(s) didn't have free ports for the requested pod ports.",
            "k8s",
            "sched-ports",
        ),
        (
            "0/3 nodes are available: 3 node(s) had untolerated taint {node.kubernetes.io/unreachable: }.",
            "k8s",
            "sched-node-gone",
        ),
        (
            'error: the server doesn\'t have a resource type "scaledobject"',
            "k8s",
            "kind-not-installed",
        ),
        ("worker-7d8c9b6f5d-l2k3j   0/1     Init:0/2   0          4m", "k8s", "init-waiting"),
        ("fatal error: all goroutines are asleep - deadlock!", "log", "app-hang"),
        ("[CRITICAL] WORKER TIMEOUT (pid:17)", "log", "app-hang"),
        (
            "WARNING [http-nio-8080-Acceptor] org.apache.tomcat.util.net.NioEndpoint"
            " All threads (200) are currently busy, waiting. Increase maxThreads (200)",
            "log",
            "app-hang",
        ),
        ("WARN [monitor] 64 of 64 worker threads busy for more than 30s", "log", "app-hang"),
        ("WARN [req-12] OrderService - waiting on inventory lock for 8000ms", "log", "app-hang"),
        (
            '"pool-3-thread-9" #41 prio=5\n   java.lang.Thread.State: BLOCKED (on object monitor)',
            "log",
            "app-hang",
        ),
        (
            "HikariPool-1 - Thread starvation or clock leap detected (housekeeper delta=1m2s).",
            "log",
            "app-hang",
        ),
        (
            'connection to server at "pg.db.svc" (10.96.0.7), port 5432 failed: Connection refused',
            "log",
            "db-down",
        ),
    ],
)
def test_generic_failure_messages_are_named(line: str, source: str, signal: str) -> None:
    assert signal in _signals(line, source)


@pytest.mark.parametrize(
    ("line", "signal"),
    [
        ('{"level":30,"msg":"request completed","responseTime":212.4}', "slow-op"),
        ('{"level":30,"msg":"server listening"}', "app-exception"),
        ("level=info latency=250ms path=/healthz", "slow-op"),
        (
            "Watchdog  This is an alert meant to ensure that the entire alerting pipeline is functional.",
            "alert-failing",
        ),
    ],
)
def test_healthy_lines_are_not_failures(line: str, signal: str) -> None:
    assert signal not in _signals(line, "alert" if line.startswith("Watchdog") else "log")


def test_a_pod_not_ready_alert_is_not_a_node_not_ready() -> None:
    signals = _signals("KubePodNotReady  Pod shop/api-0 has been in a non-ready state", "alert")
    assert "node-notready" not in signals
    assert "alert-replicas-mismatch" in signals


def test_exit_137_without_oomkilled_is_a_kill_not_an_oom() -> None:
    signals = _signals(v.DESCRIBE_LIVENESS_KILL, "k8s")
    assert {"exit-137", "liveness-failed"} <= signals
    assert "oomkilled" not in signals


def test_exit_137_with_oomkilled_is_an_oom() -> None:
    text = (
        "    Last State:     Terminated\n      Reason:       OOMKilled\n      Exit Code:    137\n"
    )
    assert {"oomkilled", "exit-137"} <= _signals(text, "k8s")


def test_a_back_off_pulling_an_image_is_not_a_crash_loop() -> None:
    signals = _signals(v.EVENTS_NEW.splitlines()[2], "k8s")
    assert "image-pull" in signals
    assert "crashloop" not in signals


def test_new_and_old_event_tables_name_the_same_scheduling_failure() -> None:
    for table in (v.EVENTS_NEW, v.EVENTS_OLD):
        out = analyze(ToolCall("kubectl_events", {}), ToolResult(ToolStatus.OK, table), Topology())
        volume = [f for f in out.findings if f.signal == "sched-volume-zone"]
        assert volume, table
        assert volume[0].subject.name == "ingest"


def test_hpa_events_name_the_missing_cpu_request() -> None:
    out = analyze(
        ToolCall("kubectl_events", {"namespace": "shop"}),
        ToolResult(ToolStatus.OK, v.EVENTS_HPA),
        Topology(),
    )
    hpa = [f for f in out.findings if f.signal == "hpa-limited"]
    assert hpa and "missing request for cpu" in hpa[0].line


def test_a_failing_init_container_is_read_from_its_own_section() -> None:
    assert init_failures(v.DESCRIBE_INIT_FAIL) == [
        "Init container wait-for-schema failed: CrashLoopBackOff; Error, Exit Code 2"
    ]
    assert init_failures(v.DESCRIBE_INIT_OK) == []
    assert init_failures(v.DESCRIBE_LIVENESS_KILL) == []


async def test_init_container_failure_outranks_the_crash_loop_it_causes() -> None:
    toolset = StaticToolset(
        [
            (
                "kubectl_get",
                {"kind": "pods"},
                "NAME READY STATUS RESTARTS AGE\n"
                "billing-6f9d8c7b5d-h4j2k   0/1   Init:CrashLoopBackOff   5   6m\n",
            ),
            ("kubectl_describe", {"name": "billing-6f9d8c7b5d-h4j2k"}, v.DESCRIBE_INIT_FAIL),
        ]
    )
    d = await investigate(
        InvestigationRequest("billing does not start", namespace="payments"), toolset
    )
    assert d.top is not None
    assert d.top.fault == "init-container-failure"
    assert "wait-for-schema" in d.top.explanation


def test_wide_pod_listing_records_pod_ips_with_restart_ages() -> None:
    topo = Topology()
    analyze(
        ToolCall("kubectl_get", {"kind": "pods", "output": "wide"}),
        ToolResult(ToolStatus.OK, v.PODS_WIDE),
        topo,
    )
    assert topo.ips["10.42.2.31"] == "orders-7c9b5d8f6c-q8w2z"
    assert topo.ips["10.42.1.17"] == "web-5f7d9c6b8d-k2p4x"


def test_request_logs_name_their_callers_by_ip() -> None:
    assert callers(v.LOGS_ORDERS) == {"10.42.1.17"}
    assert callers(v.LOGS_PRICING) == {"10.42.2.31"}  # IPv4-mapped IPv6 as Node prints it


async def test_the_slowest_callee_is_ranked_above_its_slow_callers() -> None:
    toolset = StaticToolset(
        [
            ("kubectl_get", {"kind": "pods"}, v.PODS_WIDE),
            ("kubectl_logs", {"pod": "web-5f7d9c6b8d-k2p4x"}, v.LOGS_WEB),
            ("kubectl_logs", {"pod": "orders-7c9b5d8f6c-q8w2z"}, v.LOGS_ORDERS),
            ("kubectl_logs", {"pod": "pricing-6d8f7b9c5d-x7v4n"}, v.LOGS_PRICING),
        ]
    )
    d = await investigate(InvestigationRequest("why is the shop slow?", namespace="shop"), toolset)
    assert d.top is not None
    assert (d.top.fault, d.top.resource.name) == ("high-latency-dependency", "pricing")
    assert "responseTime" in d.top.explanation


async def test_a_missing_keda_api_is_reported_for_the_workload_that_should_scale() -> None:
    missing = ToolResult(
        ToolStatus.ERROR, "", error='error: the server doesn\'t have a resource type "scaledobject"'
    )
    toolset = StaticToolset(
        [
            ("kubectl_get", {"kind": "scaledobject"}, missing),
            ("kubectl_describe", {"name": "reports"}, "Name: reports\nNamespace: finance\n"),
        ]
    )
    d = await investigate(
        InvestigationRequest(
            "why is keda not scaling the reports deployment?", namespace="finance"
        ),
        toolset,
    )
    assert d.top is not None
    assert d.top.fault == "hpa-max-replicas"
    assert d.top.resource.name == "reports"
    assert "KEDA" in d.top.explanation


async def test_the_alert_start_time_is_stated_in_the_explanation() -> None:
    toolset = StaticToolset([("list_alerts", {}, v.ALERT_RECORD)])
    d = await investigate("cluster capacity alert", toolset)
    assert d.top is not None
    assert d.top.fault == "insufficient-cluster-resources"
    assert "First seen: 2026-11-20T04:15:00Z" in d.top.explanation


def test_a_long_json_line_is_quoted_around_the_match() -> None:
    line = (
        '{"level":50,' + '"pad":"' + "x" * 400 + '",' + '"err":"getaddrinfo EAI_AGAIN inventory"}'
    )
    hits = dict(match_signals(line, "log"))
    assert "EAI_AGAIN" in hits["dns-fail"]
    assert len(hits["dns-fail"]) <= 246
    assert excerpt("short", 0, 5) == "short"


def test_only_patterns_without_any_fixed_text_skip_the_literal_prefilter() -> None:
    assert {p.signal for p in PATTERNS if p.literals is None} <= {"env-missing"}


def test_a_large_clean_log_yields_no_slow_op_or_exception_finding() -> None:
    lines = [
        f'{{"level":30,"time":{1763700000000 + i},"msg":"request completed","responseTime":{i % 90}.1}}'
        for i in range(6000)
    ]
    text = "\n".join(lines)
    out = analyze(
        ToolCall("kubectl_logs", {"pod": "web"}), ToolResult(ToolStatus.OK, text), Topology()
    )
    assert not {f.signal for f in out.findings} & {"slow-op", "app-exception"}


async def test_a_deployment_without_pods_is_followed_to_its_replicaset_events() -> None:
    toolset = StaticToolset(
        [
            (
                "kubectl_describe",
                {"kind": "deployment", "name": "etl-worker"},
                v.DESCRIBE_DEPLOY_NO_PODS,
            ),
            (
                "kubectl_describe",
                {"kind": "replicaset", "name": "etl-worker-6d5f8c9b7d"},
                v.DESCRIBE_RS_QUOTA,
            ),
        ]
    )
    request = InvestigationRequest("deployment etl-worker has no pods", namespace="batch")
    d = await investigate(request, toolset)
    assert any(c.params.get("kind") == "replicaset" for c in toolset.calls)
    assert d.top is not None
    # the denial names the quota that refused the pods: that is the object to fix
    assert (d.top.fault, d.top.resource.kind, d.top.resource.name) == (
        "resource-quota-exceeded",
        "ResourceQuota",
        "batch-compute",
    )
    assert "etl-worker" in d.top.explanation
    effects = [h for h in d.hypotheses if h.resource.name.startswith("etl-worker")]
    top_id = next(h.id for h in d.hypotheses if h.resource == d.top.resource)
    assert any(h.parent_id == top_id for h in effects)


@pytest.mark.parametrize(
    ("logs", "root"),
    [
        (v.LOGS_PY_TRACEBACK, "psycopg2.OperationalError: connection to server"),
        (v.LOGS_JAVA_CAUSED_BY, "Caused by: java.net.UnknownHostException: orders-db"),
        (v.LOGS_GO_PANIC, "panic: runtime error: invalid memory address"),
    ],
)
def test_the_innermost_error_of_a_stack_trace_is_quoted(logs: str, root: str) -> None:
    found = root_error(logs)
    assert found is not None and found.startswith(root)


async def test_a_crash_whose_error_is_a_refused_database_points_at_the_dependency() -> None:
    pods = "NAME READY STATUS RESTARTS AGE\ninvoice-7d9f8b6c5d-x2x4z   0/1   CrashLoopBackOff   6   9m\n"
    toolset = StaticToolset(
        [
            ("kubectl_get", {"kind": "pods"}, pods),
            ("kubectl_logs", {"pod": "invoice-7d9f8b6c5d-x2x4z"}, v.LOGS_PY_TRACEBACK),
        ]
    )
    d = await investigate(
        InvestigationRequest("invoice keeps crashing", namespace="finance"), toolset
    )
    assert d.top is not None
    assert d.top.fault in ("db-unavailable", "wrong-dependency-address")
    assert "ledger-db" in d.top.explanation
    crash = next(c for c in d.root_causes if c.fault == "crashloop-app-error")
    assert crash.confidence < d.top.confidence


def test_a_log_repeating_one_message_is_matched_once_per_shape() -> None:
    lines = [
        f"2026-11-22T01:{i % 60:02d}:00Z WARN retrying id={i:08x} after 250ms" for i in range(3000)
    ]
    text = "\n".join([*lines, "2026-11-22T02:00:00Z ERROR giving up: connection refused"])
    short = distinct_lines(text)
    assert len(short) < len(text) // 50
    assert short.endswith("giving up: connection refused")
    assert distinct_lines("took 950ms\ntook 1200ms" * 1) == "took 950ms\ntook 1200ms"


def test_a_healthy_node_description_shows_no_pressure() -> None:
    signals = _signals(v.DESCRIBE_NODE_HEALTHY, "k8s")
    assert not signals & {"memory-pressure", "disk-pressure", "node-notready"}


def test_a_node_condition_turned_true_is_pressure() -> None:
    assert "disk-pressure" in _signals(v.DESCRIBE_NODE_DISK, "k8s")


def test_hpa_conditions_are_read_by_their_status() -> None:
    healthy = (
        "Conditions:\n"
        "  Type            Status  Reason               Message\n"
        "  AbleToScale     True    ReadyForNewScale     recommended size matches current size\n"
        "  ScalingActive   True    ValidMetricFound     the HPA was able to successfully calculate a replica count\n"
        "  ScalingLimited  False   DesiredWithinRange   the desired count is within the acceptable range\n"
    )
    assert "hpa-limited" not in _signals(healthy, "k8s")
    pinned = healthy.replace(
        "ScalingLimited  False   DesiredWithinRange", "ScalingLimited  True    TooManyReplicas"
    )
    assert "hpa-limited" in _signals(pinned, "k8s")


def test_dependencies_with_and_without_a_known_port_sort_without_error() -> None:
    from nightshift.agent.reasoners.offline.topology import Topology

    topo = Topology()
    topo.add_dependency("api", "db.internal", 5432)
    topo.add_dependency("api", "db.internal", None)
    assert topo.dependencies() == [("api", "db.internal", None), ("api", "db.internal", 5432)]


NXDOMAIN = (
    "Server:\t\t10.96.0.10\nAddress:\t10.96.0.10#53\n\n** server can't find {name}: NXDOMAIN\n"
)


def _dns(name: str) -> list[tuple[str, str]]:
    text = NXDOMAIN.format(name=name)
    result = ToolResult(status=ToolStatus.OK, text=text)
    found = analyze(ToolCall("dns_lookup", {"name": name}), result, Topology()).findings
    return [(f.signal, str(f.subject)) for f in found if f.signal.startswith("dns-")]


def test_a_missing_statefulset_pod_record_points_at_the_pod_not_at_the_callers_config() -> None:
    found = _dns("cache-2.cache.shop.svc.cluster.local")
    assert ("dns-pod-record-missing", "shop/Pod/cache-2") in found
    assert "dns-nxdomain" not in [s for s, _ in found]


def test_an_unknown_service_name_is_still_a_wrong_address_suspect() -> None:
    signals = [s for s, _ in _dns("orders-api.shop.svc.cluster.local")]
    assert "dns-nxdomain" in signals
    assert "dns-pod-record-missing" not in signals
