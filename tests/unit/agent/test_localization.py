"""The diagnosis names the resource the fix applies to, as the action catalog needs it."""

from __future__ import annotations

from nightshift.agent.investigation import investigate
from nightshift.agent.reasoners.offline.analyzers import analyze
from nightshift.agent.reasoners.offline.beliefs import Beliefs
from nightshift.agent.reasoners.offline.changes import change_subject, parse_changes
from nightshift.agent.reasoners.offline.findings import Analysis, Finding
from nightshift.agent.reasoners.offline.kinds import kind_name
from nightshift.agent.reasoners.offline.signals import DB, match_signals
from nightshift.agent.reasoners.offline.topology import Topology
from nightshift.agent.request import InvestigationRequest
from nightshift.agent.tools.protocol import ToolCall, ToolResult, ToolStatus
from nightshift.agent.tools.static import StaticToolset
from nightshift.domain.diagnosis import ResourceRef

CHANGES = """\
TIME                   AGE   ID            DOMAIN       KIND         TARGET                            ACTOR       SUMMARY
2026-03-14T01:38:00Z   29m   CHG-20417     network      firewall     fw-edge-01/02 ruleset prod-to-dc  netops      Replace broad allow with explicit ports
2026-03-14T01:40:00Z   27m   DEP-9377      application  deployment   shop/deployment/cart-service      argocd      cart-service 7.3.2 -> 7.4.0
2026-03-14T01:41:00Z   26m   CFG-1417      application  config       pricing/configmap/fx-rates-config h.novak     Update fx-rates-config
2026-03-14T01:42:00Z   25m   SSM-PB-0314   kubernetes   infrastructure node ip-10-0-38-7               aws-ssm     Install OS updates and reboot
2026-03-14T01:43:00Z   24m   VAULT-ROT     security     secret       loyalty-db role loyalty_app       vault       Static role password rotated
"""  # noqa: E501


def _changes() -> dict[str, ResourceRef]:
    out = Analysis()
    parse_changes(CHANGES, out, Topology())
    return {c.ident: change_subject(c) for c in out.changes}


def test_a_recorded_change_is_named_by_its_record_id_never_by_the_object_it_changed() -> None:
    subjects = _changes()
    assert subjects["CHG-20417"] == ResourceRef("Change", "CHG-20417")
    assert subjects["CFG-1417"] == ResourceRef("Change", "CFG-1417")


def test_change_ids_come_from_the_id_column_whatever_their_shape() -> None:
    assert set(_changes()) == {"CHG-20417", "DEP-9377", "CFG-1417", "SSM-PB-0314", "VAULT-ROT"}


def test_a_rollout_is_undone_on_the_workload_it_rolled_out() -> None:
    assert _changes()["DEP-9377"] == ResourceRef("Deployment", "cart-service", "shop")


def test_kinds_are_spelled_as_the_api_spells_them() -> None:
    assert [kind_name(k) for k in ("pvc", "replicasets", "networkpolicies", "resourcequota")] == [
        "PersistentVolumeClaim",
        "ReplicaSet",
        "NetworkPolicy",
        "ResourceQuota",
    ]


EVENTS_CORDONED = """\
NAMESPACE   LAST SEEN   TYPE      REASON             OBJECT                       MESSAGE
api         60s         Warning   FailedScheduling   pod/orders-7d8f6c5b9f-b7nrd  0/4 nodes are available: 2 Insufficient cpu, 2 node(s) were unschedulable. preemption: 0/4 nodes are available: 4 No preemption victims found for incoming pod.
"""  # noqa: E501
NODES = """\
NAME           STATUS                     ROLES           AGE   VERSION
cp-1           Ready,SchedulingDisabled   control-plane   90d   v1.30.4
worker-a       Ready,SchedulingDisabled   <none>          21d   v1.30.4
worker-b       Ready                      <none>          21d   v1.30.4
worker-c       Ready                      <none>          21d   v1.30.4
"""


DRAIN = """\
TIME                   AGE   ID        DOMAIN       KIND             TARGET          ACTOR    SUMMARY
2026-03-14T01:00:00Z   9h    MW-0313   kubernetes   infrastructure   node worker-a   e.varga  kubectl drain for a kernel patch
"""  # noqa: E501


async def test_pods_that_only_a_drained_node_could_fit_blame_the_cordon_on_the_node() -> None:
    toolset = StaticToolset(
        [
            ("kubectl_events", {}, EVENTS_CORDONED),
            ("kubectl_get", {"kind": "nodes"}, NODES),
            ("recent_changes", {}, DRAIN),
        ],
        tools=["kubectl_events", "kubectl_get", "recent_changes"],
    )
    d = await investigate(InvestigationRequest("orders pods pending", namespace="api"), toolset)
    assert d.top is not None
    assert (d.top.fault, d.top.resource.kind, d.top.resource.name) == (
        "node-cordoned",
        "Node",
        "worker-a",
    )
    # a cordoned control-plane node is normal, never a candidate
    assert all(h.resource.name != "cp-1" for h in d.hypotheses)


async def test_a_cordon_nothing_recorded_is_the_clusters_shape_and_capacity_is_short() -> None:
    toolset = StaticToolset(
        [("kubectl_events", {}, EVENTS_CORDONED), ("kubectl_get", {"kind": "nodes"}, NODES)],
        tools=["kubectl_events", "kubectl_get"],
    )
    d = await investigate(InvestigationRequest("orders pods pending", namespace="api"), toolset)
    assert d.top is not None
    assert d.top.fault == "insufficient-cluster-resources"


DNS_SERVFAIL = """\
Server:\t\t10.96.0.10
Address:\t10.96.0.10#53

** server can't find ldap.corp.internal: SERVFAIL
"""
DNS_TIMEOUT = ";; connection timed out; no servers could be reached\n"


PODS = """\
NAME                           READY   STATUS    RESTARTS   AGE
sso-gateway-5f9d8c7b6f-98287   1/1     Running   0          3d
"""
SSO_LOGS = (
    '2026-03-14T01:53:00Z WARN ldap: dial failed: LDAP Result Code 200 "Network Error": '
    "lookup ldap.corp.internal on 10.96.0.10:53: server misbehaving\n"
)


async def test_a_servfail_from_the_cluster_resolver_is_the_coredns_configuration() -> None:
    toolset = StaticToolset(
        [
            ("kubectl_get", {"kind": "pods"}, PODS),
            ("kubectl_logs", {}, SSO_LOGS),
            ("dns_lookup", {"name": "ldap.corp.internal"}, DNS_SERVFAIL),
        ],
        tools=["kubectl_get", "kubectl_logs", "dns_lookup"],
    )
    request = InvestigationRequest("sso-gateway logins failing", namespace="identity")
    d = await investigate(request, toolset)
    assert any(c.name == "dns_lookup" for c in toolset.calls)
    assert d.top is not None
    assert (d.top.fault, str(d.top.resource)) == (
        "dns-resolution-failure",
        "kube-system/ConfigMap/coredns",
    )


async def test_a_resolver_that_cannot_be_reached_is_not_blamed_on_its_configuration() -> None:
    toolset = StaticToolset(
        [
            ("kubectl_get", {"kind": "pods"}, PODS),
            ("kubectl_logs", {}, SSO_LOGS.replace("server misbehaving", "i/o timeout")),
            ("dns_lookup", {"name": "ldap.corp.internal"}, DNS_TIMEOUT),
        ],
        tools=["kubectl_get", "kubectl_logs", "dns_lookup"],
    )
    d = await investigate(InvestigationRequest("sso-gateway logins failing"), toolset)
    assert any(c.name == "dns_lookup" for c in toolset.calls)
    assert all(h.resource.name != "coredns" for h in d.hypotheses)


def test_an_empty_answer_shows_the_tools_own_message() -> None:
    said = "no firewall rules or network policies apply to fw-nowhere-07"
    call = ToolCall("firewall_rules", {"target": "fw-nowhere-07"})
    summary = analyze(call, ToolResult(ToolStatus.NO_DATA, said), Topology()).summary
    assert summary == f"no_data: {said}"


def test_healthy_read_outs_are_not_findings() -> None:
    healthy = "replication lag: 0.3s\nmax_connections: 300   current: 7 (2%)\n"
    assert match_signals(healthy, DB) == []
    sick = "replication lag: 45s\nmax_connections: 300   current: 290 (97%)\n"
    assert {s for s, _line in match_signals(sick, DB)} == {"db-replication", "too-many-conns"}


NOW = 1_800_000_000.0


def _finding(signal: str, ref: ResourceRef, line: str, at: float) -> Finding:
    return Finding(signal, ref, line, at)


def test_a_signal_that_began_a_day_before_the_incident_weighs_as_history() -> None:
    beliefs = Beliefs(causes_checked=True)
    api = ResourceRef("Deployment", "api", "shop")
    db = ResourceRef("Database", "orders-db")
    beliefs.add_finding(_finding("timeout", api, "api: upstream timeout", NOW), "e1")
    beliefs.add_finding(_finding("db-slow", db, "slow query log volume up", NOW - 86_400), "e2")
    fresh = Beliefs(causes_checked=True)
    fresh.add_finding(_finding("timeout", api, "api: upstream timeout", NOW), "e1")
    fresh.add_finding(_finding("db-slow", db, "slow query log volume up", NOW - 60), "e2")
    old = beliefs.evaluate(Topology())[(db, "db-slow-query")].confidence
    new = fresh.evaluate(Topology())[(db, "db-slow-query")].confidence
    assert old < 0.5 * new


def test_a_stopped_kubelet_is_why_the_node_is_not_ready() -> None:
    beliefs = Beliefs(causes_checked=True)
    node = ResourceRef("Node", "worker-b")
    beliefs.add_finding(_finding("node-notready", node, "Ready False NodeNotReady", NOW), "e1")
    beliefs.add_finding(
        _finding("kubelet-stopped", node, "Kubelet stopped posting node status.", NOW), "e2"
    )
    out = beliefs.evaluate(Topology())
    kubelet, not_ready = out[(node, "kubelet-down")], out[(node, "node-not-ready")]
    assert kubelet.confidence > not_ready.confidence
    assert not_ready.parent == (node, "kubelet-down")


CRM_LOGS = (
    "2026-03-14 01:36:00.413 ERROR 1 --- [exec-77] o.h.e.j.s.SqlExceptionHelper : "
    "ERROR: canceling statement due to statement timeout\n"
    "2026-03-14 01:43:00.002 WARN 1 --- [exec-12] com.zaxxer.hikari.pool.HikariPool : "
    "HikariPool-1 - Connection is not available, request timed out after 30000ms\n"
)
CRM_PODS = "NAME                       READY   STATUS    RESTARTS   AGE\ncrm-api-5d9c8f7b6d-b7x22   1/1     Running   0          3d\n"  # noqa: E501
DB_STATS = """\
database customers-db (postgresql 15.6) host=customers-db.example.internal
max_connections: 500   current: 64 (13%)

connections by application_name:
 application_name | count
------------------+-------
 crm-api          |    60
(1 rows)

top statements by mean time (pg_stat_statements):
 calls | mean_ms | max_ms |  rows  | query
-------+---------+--------+--------+------------------------------------------------
 18211 |  3912.4 | 9980.1 |  18102 | SELECT c.* FROM customers c WHERE lower(c.email) = lower($1)
"""


async def test_a_slow_statement_is_fixed_in_the_database_not_in_its_caller() -> None:
    unknown = ToolResult(
        ToolStatus.NO_DATA, "no database named 'crm-api' is monitored (known: customers-db)"
    )
    toolset = StaticToolset(
        [
            ("kubectl_get", {"kind": "pods"}, CRM_PODS),
            ("kubectl_logs", {}, CRM_LOGS),
            ("db_stats", {"database": "customers-db"}, DB_STATS),
            ("db_stats", {}, unknown),
        ],
        tools=["kubectl_get", "kubectl_logs", "db_stats"],
    )
    d = await investigate(InvestigationRequest("crm-api errors", namespace="crm"), toolset)
    assert any(c.params.get("database") == "customers-db" for c in toolset.calls)
    assert d.top is not None
    assert (d.top.fault, d.top.resource.kind, d.top.resource.name) == (
        "db-slow-query",
        "Database",
        "customers-db",
    )
    # the caller's exhausted pool is an effect of the slow database
    chain = [(link.resource.name, link.fault) for link in d.causal_chain]
    assert ("crm-api", "connection-pool-exhaustion") in chain[1:]


SEARCH_PODS = """\
NAME                          READY   STATUS    RESTARTS   AGE
search-api-5b8c7f6d9c-6wq2m   1/1     Running   0          2d
search-api-5b8c7f6d9c-k9xtr   1/1     Running   0          2d
search-api-5b8c7f6d9c-z4plb   1/1     Running   0          2d
"""
HUNG = "2026-03-14 00:05:00.840 WARN [http-31] Search - request waiting on cache lock for 5000ms\n"
FINE = "2026-03-14 02:05:00.123 INFO [http-7] Search - q=drill hits=88 took=41ms\n"


async def test_a_hang_in_one_replica_while_its_siblings_are_fine_is_that_pods() -> None:
    toolset = StaticToolset(
        [
            ("kubectl_get", {"kind": "pods"}, SEARCH_PODS),
            ("kubectl_logs", {"pod": "search-api-5b8c7f6d9c-6wq2m"}, HUNG),
            ("kubectl_logs", {}, FINE),
        ],
        tools=["kubectl_get", "kubectl_logs"],
    )
    request = InvestigationRequest("search-api requests time out", namespace="search")
    d = await investigate(request, toolset)
    assert d.top is not None
    assert (d.top.fault, d.top.resource.kind, d.top.resource.name) == (
        "application-deadlock-hang",
        "Pod",
        "search-api-5b8c7f6d9c-6wq2m",
    )


DESCRIBE_TWO_PORTS = """\
Name:         web-1
Containers:
  web:
    Port:          8080/TCP, 8081/TCP
    Host Port:     0/TCP, 0/TCP
    Readiness:    http-get http://:8081/admin/ready delay=0s timeout=1s period=10s
"""


def test_a_probe_on_the_second_declared_port_is_not_a_port_mismatch() -> None:
    call = ToolCall("kubectl_describe", {"kind": "pod", "name": "web-1"})
    out = analyze(call, ToolResult(ToolStatus.OK, DESCRIBE_TWO_PORTS), Topology())
    assert "readiness-port-mismatch" not in {f.signal for f in out.findings}
    broken = DESCRIBE_TWO_PORTS.replace("8080/TCP, 8081/TCP", "8080/TCP")
    out = analyze(call, ToolResult(ToolStatus.OK, broken), Topology())
    assert "readiness-port-mismatch" in {f.signal for f in out.findings}
