"""Service routing as a real cluster prints it: ports, protocols, policies, addresses, quotas."""

from __future__ import annotations

from nightshift.agent.investigation import investigate
from nightshift.agent.reasoners.offline.analyzers import analyze
from nightshift.agent.reasoners.offline.findings import Analysis
from nightshift.agent.reasoners.offline.topology import Topology
from nightshift.agent.request import InvestigationRequest
from nightshift.agent.tools.protocol import ToolCall, ToolResult, ToolStatus
from nightshift.agent.tools.static import StaticToolset

POD = """\
Name:             rabbitmq-588588cf6f-kstnt
Namespace:        shop
Controlled By:  ReplicaSet/rabbitmq-588588cf6f
Containers:
  server:
    Port:           9555/TCP (http)
    Host Port:      0/TCP (http)
"""


def _service(port: str, target: str) -> str:
    return f"""\
Name:                     rabbitmq
Namespace:                shop
Selector:                 app=rabbitmq
Type:                     ClusterIP
IP:                       10.96.3.116
Port:                     http  {port}
TargetPort:               {target}
Endpoints:
"""


def _findings(service: str) -> Analysis:
    topo = Topology()
    pod = ToolCall("kubectl_describe", {"kind": "pod", "name": "rabbitmq-588588cf6f-kstnt"})
    analyze(pod, ToolResult(ToolStatus.OK, POD), topo)
    svc = ToolCall("kubectl_describe", {"kind": "service", "name": "rabbitmq", "namespace": "shop"})
    return analyze(svc, ToolResult(ToolStatus.OK, service), topo)


def _port_findings(service: str) -> list[str]:
    return [f.line for f in _findings(service).findings if f.signal == "target-port-mismatch"]


def test_a_named_target_port_no_container_declares_is_a_service_port_mismatch() -> None:
    [line] = _port_findings(_service("9555/TCP", "grpc/TCP"))
    assert "named targetPort 'grpc'" in line


def test_a_protocol_the_container_does_not_speak_is_a_service_port_mismatch() -> None:
    [line] = _port_findings(_service("9555/UDP", "9555/UDP"))
    assert "sends UDP" in line


def test_a_service_that_reaches_its_container_port_is_not_blamed() -> None:
    assert _port_findings(_service("80/TCP", "http/TCP")) == []
    assert _port_findings(_service("80/TCP", "9555/TCP")) == []


LOGS = "ERROR risk-scoring: dial tcp 10.96.3.146:6379: i/o timeout\n"
SERVICES = """\
NAME           TYPE        CLUSTER-IP    EXTERNAL-IP   PORT(S)    AGE
risk-scoring   ClusterIP   10.96.3.146   <none>        6379/TCP   4m
"""
PODS = """\
NAME                           READY   STATUS    RESTARTS   AGE
accounts-0                     1/1     Running   0          4m
risk-scoring-5dcf88fc44-48mhr  1/1     Running   0          4m
"""
RULES = """\
Target: shop/Deployment/risk-scoring labels app=risk-scoring (labels from its pod template)
NetworkPolicies selecting it: 1 of 1 in namespace shop
Ingress: restricted to 1 rule(s) of lockdown-ingress
Egress: not restricted (no selecting policy has Egress)

NetworkPolicy shop/lockdown-ingress
  podSelector: app=risk-scoring
  policyTypes: Ingress
  Ingress:
    - from pods app=admin-tools in namespace shop; ports: all
"""
NO_RULES = """\
Target: shop/StatefulSet/accounts labels app=accounts (labels from its pod template)
NetworkPolicies selecting it: 0 of 1 in namespace shop
No NetworkPolicy selects these pods: ingress and egress are not restricted by NetworkPolicy.
"""


async def test_a_clusterip_in_a_callers_error_leads_to_the_policy_that_blocks_its_service() -> None:
    toolset = StaticToolset(
        [
            ("kubectl_get", {"kind": "pods"}, PODS),
            ("kubectl_get", {"kind": "services"}, SERVICES),
            ("kubectl_logs", {"pod": "accounts-0"}, LOGS),
            ("firewall_rules", {"target": "risk-scoring"}, RULES),
            ("firewall_rules", {"target": "accounts"}, NO_RULES),
        ],
        tools=["kubectl_get", "kubectl_logs", "firewall_rules"],
    )
    request = InvestigationRequest("accounts reports errors calling risk-scoring", namespace="shop")
    d = await investigate(request, toolset)
    assert d.top is not None
    assert (d.top.fault, d.top.resource.kind, d.top.resource.name) == (
        "network-policy-blocking",
        "NetworkPolicy",
        "lockdown-ingress",
    )


QUOTAS = """\
NAME            REQUEST         LIMIT   AGE
object-counts   services: 1/1           2m
"""
LOOKUP = (
    "ERROR connecting to postgres:5432: dial tcp: lookup postgres.shop.svc.cluster.local "
    "on 10.96.0.10:53: no such host\n"
)


async def test_a_service_a_full_quota_kept_from_being_created_blames_the_quota() -> None:
    toolset = StaticToolset(
        [
            (
                "kubectl_get",
                {"kind": "pods"},
                "NAME  READY  STATUS  RESTARTS  AGE\ncatalog-0  0/1  CrashLoopBackOff  4  3m\n",
            ),
            ("kubectl_logs", {"pod": "catalog-0"}, LOOKUP),
            (
                "kubectl_describe",
                {"kind": "service", "name": "postgres"},
                ToolResult(
                    ToolStatus.NO_DATA,
                    'Error from server (NotFound): services "postgres" not found',
                ),
            ),
            ("kubectl_get", {"kind": "resourcequotas"}, QUOTAS),
        ],
        tools=["kubectl_get", "kubectl_logs", "kubectl_describe"],
    )
    request = InvestigationRequest("catalog cannot reach its database postgres", namespace="shop")
    d = await investigate(request, toolset)
    assert d.top is not None
    assert (d.top.fault, d.top.resource.kind, d.top.resource.name) == (
        "resource-quota-exceeded",
        "ResourceQuota",
        "object-counts",
    )
