"""The canonical read tools the agent knows how to ask for.

Every toolset (simulated world, replay of recorded sessions, live Kubernetes,
Prometheus) answers a subset of these names with these parameters; a toolset
that cannot answer a call returns ``ToolStatus.NO_DATA``. Keeping one catalog
lets the reasoner plan without caring where the answers come from.
"""

from __future__ import annotations

from typing import Any

from nightshift.agent.tools.protocol import ToolSpec
from nightshift.domain.vocabulary import Domain


def _schema(required: list[str], **props: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": props,
        "required": required,
        "additionalProperties": False,
    }


_S: dict[str, Any] = {"type": "string"}
_NS: dict[str, Any] = {"type": "string", "description": "namespace; omit for all namespaces"}

KUBECTL_GET = ToolSpec(
    name="kubectl_get",
    description="kubectl get KIND [NAME] [-n NS] [-l SELECTOR] -o wide|yaml|labels",
    domain=Domain.KUBERNETES,
    parameters=_schema(
        ["kind"],
        kind=_S,
        name=_S,
        namespace=_NS,
        label_selector=_S,
        output={"type": "string", "enum": ["wide", "yaml", "labels"]},
    ),
)
KUBECTL_DESCRIBE = ToolSpec(
    name="kubectl_describe",
    description="kubectl describe KIND NAME -n NS",
    domain=Domain.KUBERNETES,
    parameters=_schema(["kind", "name"], kind=_S, name=_S, namespace=_NS),
)
KUBECTL_LOGS = ToolSpec(
    name="kubectl_logs",
    description="kubectl logs POD [-c CONTAINER] [--previous] [--tail N] -n NS",
    domain=Domain.APPLICATION,
    parameters=_schema(
        ["pod"],
        pod=_S,
        namespace=_NS,
        container=_S,
        previous={"type": "boolean"},
        tail={"type": "integer", "minimum": 1, "maximum": 5000},
    ),
)
KUBECTL_EVENTS = ToolSpec(
    name="kubectl_events",
    description="kubectl get events [-n NS] [--field-selector involvedObject.kind/name]",
    domain=Domain.KUBERNETES,
    parameters=_schema([], namespace=_NS, kind=_S, name=_S),
)
KUBECTL_ROLLOUT_HISTORY = ToolSpec(
    name="kubectl_rollout_history",
    description="kubectl rollout history deployment/NAME -n NS (revisions and change causes)",
    domain=Domain.KUBERNETES,
    parameters=_schema(["name"], name=_S, namespace=_NS, kind=_S),
)
KUBECTL_TOP = ToolSpec(
    name="kubectl_top",
    description="kubectl top pods|nodes [-n NS]",
    domain=Domain.KUBERNETES,
    parameters=_schema(["kind"], kind={"type": "string", "enum": ["pods", "nodes"]}, namespace=_NS),
)
LIST_ALERTS = ToolSpec(
    name="list_alerts",
    description="Firing alerts (name, severity, domain, target, since, description)",
    domain=Domain.APPLICATION,
    parameters=_schema([], domain=_S, severity=_S),
    cost_hint=0.5,
)
RECENT_CHANGES = ToolSpec(
    name="recent_changes",
    description="Change log: deployments, config, firewall, schema changes with time and actor",
    domain=Domain.APPLICATION,
    parameters=_schema(
        [], domain=_S, since_minutes={"type": "integer", "minimum": 1, "maximum": 10080}
    ),
    cost_hint=0.5,
)
PROMETHEUS_QUERY = ToolSpec(
    name="prometheus_query",
    description="PromQL range query over the last N minutes; returns a compact series table",
    domain=Domain.APPLICATION,
    parameters=_schema(
        ["query"], query=_S, range_minutes={"type": "integer", "minimum": 1, "maximum": 1440}
    ),
    cost_hint=1.5,
)
LOGS_SEARCH = ToolSpec(
    name="logs_search",
    description="Search aggregated logs (Loki-like) for a pattern across a namespace or app",
    domain=Domain.APPLICATION,
    parameters=_schema(
        ["pattern"],
        pattern={"type": "string", "description": "a literal substring unless regex is true"},
        namespace=_NS,
        app=_S,
        regex={"type": "boolean", "description": "pattern is a regular expression (RE2)"},
        since_minutes={"type": "integer", "minimum": 1, "maximum": 10080},
        limit={"type": "integer", "minimum": 1, "maximum": 1000},
    ),
    cost_hint=2.0,
)
NETWORK_CHECK = ToolSpec(
    name="network_check",
    description="Connectivity probe from a source workload to a destination host:port",
    domain=Domain.NETWORK,
    parameters=_schema(
        ["source", "destination"],
        source=_S,
        destination=_S,
        port={"type": "integer", "minimum": 1, "maximum": 65535},
        tls={"type": "boolean", "description": "also complete a TLS handshake"},
    ),
)
FIREWALL_RULES = ToolSpec(
    name="firewall_rules",
    description="Firewall / security-group / NetworkPolicy rules that apply to a target",
    domain=Domain.NETWORK,
    parameters=_schema([], target=_S),
)
DNS_LOOKUP = ToolSpec(
    name="dns_lookup",
    description="Resolve a name from inside the cluster (answer, NXDOMAIN, timeout)",
    domain=Domain.NETWORK,
    parameters=_schema(["name"], name=_S, source=_S),
)
DB_STATS = ToolSpec(
    name="db_stats",
    description="Database health: connections by state vs max, pool waiters, locks, slow queries",
    domain=Domain.DATABASE,
    parameters=_schema(["database"], database=_S),
)
SECURITY_EVENTS = ToolSpec(
    name="security_events",
    description="Security events: auth failures, denied requests, certificate and token expiry",
    domain=Domain.SECURITY,
    parameters=_schema(
        [], target=_S, since_minutes={"type": "integer", "minimum": 1, "maximum": 10080}
    ),
)

NODE_DIAGNOSTICS = ToolSpec(
    name="node_diagnostics",
    description=(
        "Node health: conditions with reasons and last transitions, taints and cordon, "
        "kube-system components on it (kube-proxy, DNS, CNI), kubelet /healthz; "
        "omit node for every node"
    ),
    domain=Domain.KUBERNETES,
    parameters=_schema([], node=_S),
)

CATALOG: tuple[ToolSpec, ...] = (
    LIST_ALERTS,
    RECENT_CHANGES,
    KUBECTL_GET,
    KUBECTL_DESCRIBE,
    KUBECTL_LOGS,
    KUBECTL_EVENTS,
    KUBECTL_ROLLOUT_HISTORY,
    KUBECTL_TOP,
    PROMETHEUS_QUERY,
    LOGS_SEARCH,
    NETWORK_CHECK,
    FIREWALL_RULES,
    DNS_LOOKUP,
    DB_STATS,
    SECURITY_EVENTS,
    NODE_DIAGNOSTICS,
)

BY_NAME: dict[str, ToolSpec] = {spec.name: spec for spec in CATALOG}
