"""A scenario file: metadata, trigger, topology, world state and ground truth.

The world state (``WorldState``) is everything a tool can observe. The ground
truth says what is really wrong, which actions fix it, and the patch that turns
the world into its after-the-fix shape, so remediation can be verified by
looking at the world again rather than by trusting the action.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from nightshift.domain.vocabulary import Domain, Tier
from nightshift.scenarios.clock import DEFAULT_NOW
from nightshift.scenarios.kube_model import (
    Ago,
    ConfigMap,
    Event,
    FileModel,
    Job,
    Namespace,
    NetworkPolicy,
    Node,
    PersistentVolumeClaim,
    Pod,
    ResourceQuota,
    Secret,
    Service,
    Workload,
)

SLUG = r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$"


class Metadata(FileModel):
    name: str = Field(pattern=SLUG)
    title: str
    description: str
    tier: Tier
    domains: list[Domain] = Field(min_length=1)
    now: datetime = DEFAULT_NOW
    cluster: str = "prod-eu-west-1"
    tags: list[str] = Field(default_factory=list)


class Trigger(FileModel):
    kind: Literal["alert", "question"] = "alert"
    alert: str | None = None
    question: str | None = None
    summary: str


class Component(FileModel):
    name: str
    kind: Literal[
        "service", "database", "cache", "queue", "external", "node", "firewall", "loadbalancer"
    ] = "service"
    namespace: str | None = None
    host: str | None = None
    port: int | None = None
    calls: list[str] = Field(default_factory=list)


class Alert(FileModel):
    name: str
    severity: Literal["critical", "warning", "info"] = "warning"
    domain: Domain
    target: str
    since: Ago
    summary: str
    labels: dict[str, str] = Field(default_factory=dict)
    symptom: bool = True  # False marks a red herring: firing, but unrelated


class AlertStormGroup(FileModel):
    """``count`` alerts named ``name`` spread over ``targets`` and a time window."""

    name: str
    severity: Literal["critical", "warning", "info"] = "warning"
    domain: Domain
    count: int = Field(ge=1, le=2000)
    targets: list[str] = Field(min_length=1)  # may use {i}
    since_from: Ago  # the oldest alert in the group
    since_to: Ago = 0  # the newest
    summary: str  # may use {target} and {i}
    symptom: bool = True
    labels: dict[str, str] = Field(default_factory=dict)


class Change(FileModel):
    id: str
    at: Ago
    domain: Domain
    kind: Literal[
        "deployment",
        "config",
        "firewall",
        "schema",
        "secret",
        "certificate",
        "infrastructure",
        "network-policy",
        "scaling",
        "dependency",
        "feature-flag",
    ]
    actor: str
    target: str
    summary: str
    details: str = ""
    ticket: str | None = None


class Shape(FileModel):
    """A step (optionally ramped) from ``baseline`` to ``value`` at ``at`` before now."""

    baseline: float
    value: float
    at: Ago
    ramp: Ago = 0
    jitter: float = 0.0  # deterministic relative wobble, e.g. 0.05


class MetricSeries(FileModel):
    name: str
    labels: dict[str, str] = Field(default_factory=dict)
    step: Ago = 60
    values: list[float] = Field(default_factory=list)  # oldest first, ends at now
    shape: Shape | None = None
    unit: str = ""


class FirewallRule(FileModel):
    id: str
    priority: int = 1000
    action: Literal["allow", "deny", "drop", "reject"] = "allow"
    direction: Literal["ingress", "egress"] = "ingress"
    protocol: str = "tcp"
    source: str = "any"
    destination: str = "any"
    ports: str = "any"
    description: str = ""
    change: str | None = None  # id of the change that introduced it
    age: Ago = 90 * 86400


class FirewallRuleset(FileModel):
    name: str
    device: str
    applies_to: list[str] = Field(default_factory=list)
    default_action: Literal["allow", "deny"] = "deny"
    rules: list[FirewallRule] = Field(default_factory=list)


class NetworkCheck(FileModel):
    source: str
    destination: str
    port: int | None = None
    result: Literal["ok", "timeout", "refused", "reset", "unreachable", "tls-error"] = "ok"
    latency_ms: float | None = None
    detail: str = ""


class DnsAnswer(FileModel):
    name: str
    source: str | None = None
    result: Literal["ok", "nxdomain", "timeout", "servfail"] = "ok"
    addresses: list[str] = Field(default_factory=list)
    cname: str | None = None


class Connections(FileModel):
    active: int = 0
    idle: int = 0
    idle_in_transaction: int = 0
    waiting: int = 0  # blocked on a lock


class Pool(FileModel):
    name: str
    kind: str = "pgbouncer"
    size: int
    in_use: int
    waiting_clients: int = 0
    max_wait_ms: float = 0.0


class SlowQuery(FileModel):
    query: str
    calls: int
    mean_ms: float
    max_ms: float
    rows: int = 0


class Database(FileModel):
    name: str
    engine: Literal["postgresql", "mysql", "redis"] = "postgresql"
    host: str
    version: str = "15.6"
    max_connections: int = 200
    connections: Connections = Field(default_factory=Connections)
    by_client: dict[str, int] = Field(default_factory=dict)
    pools: list[Pool] = Field(default_factory=list)
    locks_waiting: int = 0
    slow_queries: list[SlowQuery] = Field(default_factory=list)
    replication_lag_s: float | None = None
    disk_used_pct: float | None = None
    notes: list[str] = Field(default_factory=list)


class SecurityEvent(FileModel):
    at: Ago
    source: str
    type: str
    principal: str = "-"
    target: str
    outcome: Literal["success", "failure", "denied", "warning"] = "failure"
    message: str
    count: int = 1


class LogStream(FileModel):
    """Aggregated logs from something that is not a pod (a DB host, a firewall)."""

    source: str
    namespace: str | None = None
    app: str | None = None
    lines: str


class WorldState(FileModel):
    namespaces: list[Namespace] = Field(default_factory=list)
    nodes: list[Node] = Field(default_factory=list)
    deployments: list[Workload] = Field(default_factory=list)
    pods: list[Pod] = Field(default_factory=list)
    services: list[Service] = Field(default_factory=list)
    configmaps: list[ConfigMap] = Field(default_factory=list)
    secrets: list[Secret] = Field(default_factory=list)
    pvcs: list[PersistentVolumeClaim] = Field(default_factory=list)
    jobs: list[Job] = Field(default_factory=list)
    network_policies: list[NetworkPolicy] = Field(default_factory=list)
    resource_quotas: list[ResourceQuota] = Field(default_factory=list)
    events: list[Event] = Field(default_factory=list)
    alerts: list[Alert] = Field(default_factory=list)
    changes: list[Change] = Field(default_factory=list)
    metrics: list[MetricSeries] = Field(default_factory=list)
    firewall: list[FirewallRuleset] = Field(default_factory=list)
    network_checks: list[NetworkCheck] = Field(default_factory=list)
    dns: list[DnsAnswer] = Field(default_factory=list)
    databases: list[Database] = Field(default_factory=list)
    security_events: list[SecurityEvent] = Field(default_factory=list)
    log_streams: list[LogStream] = Field(default_factory=list)


class StatePatch(WorldState):
    """Upserts by identity (kind + namespace + name); ``remove`` deletes.

    ``remove`` entries are ``kind/namespace/name`` (``pod/shop/checkout-7d9-x2k``),
    ``kind/name`` for cluster-scoped things, ``alert/NAME`` (every alert of that
    name) or ``firewall-rule/ID``.
    """

    remove: list[str] = Field(default_factory=list)
    # "namespace/deployment/name": every pod of the workload becomes healthy (and
    # missing replicas are created), whatever earlier actions renamed or replaced
    heal: list[str] = Field(default_factory=list)
    resolve_symptom_alerts: bool = True


class Remediation(FileModel):
    action: str
    target: str  # kind/name, e.g. deployment/checkout, node/ip-10-0-3-17, change/CHG-1
    namespace: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)


class HarmfulAction(Remediation):
    """An action that makes things worse; ``effect`` is applied instead of a no-op."""

    effect: StatePatch = Field(default_factory=StatePatch)


class RootCauseRef(FileModel):
    kind: str
    name: str
    namespace: str | None = None


class GroundTruth(FileModel):
    root_cause: RootCauseRef
    # other names for the same culprit a grader should accept (the ruleset a change edited)
    alternative_resources: list[RootCauseRef] = Field(default_factory=list)
    fault: str = Field(pattern=SLUG)
    alternative_faults: list[str] = Field(default_factory=list)
    summary: str
    remediation: list[Remediation] = Field(min_length=1)  # any one of them fixes it
    after_fix: StatePatch = Field(default_factory=StatePatch)
    harmful_actions: list[HarmfulAction] = Field(default_factory=list)


class Scenario(WorldState):
    metadata: Metadata
    base: str | None = None  # a shared cluster fragment in data/bases/
    trigger: Trigger
    topology: list[Component] = Field(default_factory=list)
    alert_storm: list[AlertStormGroup] = Field(default_factory=list)
    ground_truth: GroundTruth
