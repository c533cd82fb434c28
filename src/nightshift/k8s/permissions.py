"""What each agent identity may do in Kubernetes, as RBAC rules.

The one place that maps governance (authority class, trust phase, approved
action types) to verbs on resources. ``render`` turns these rules into Roles;
``drift`` compares the API server's effective permissions against them.
"""

from __future__ import annotations

from dataclasses import dataclass

from nightshift.domain.actions import ActionCatalog
from nightshift.domain.agents import AgentIdentity
from nightshift.domain.vocabulary import AuthorityClass, Domain, TrustPhase

READ_VERBS = ("get", "list", "watch")


@dataclass(frozen=True, slots=True, order=True)
class Rule:
    """One RBAC rule: verbs on resources of one API group."""

    group: str
    resources: tuple[str, ...]
    verbs: tuple[str, ...]
    cluster_scoped: bool = False

    def as_policy_rule(self) -> dict[str, list[str]]:
        return {
            "apiGroups": [self.group],
            "resources": list(self.resources),
            "verbs": list(self.verbs),
        }

    def grants(self) -> set[tuple[str, str, str]]:
        return {(self.group, r, v) for r in self.resources for v in self.verbs}


# Reads every diagnosing agent needs; Secrets are deliberately absent.
NAMESPACED_READS: tuple[Rule, ...] = (
    Rule(
        "",
        (
            "pods",
            "pods/log",
            "events",
            "services",
            "endpoints",
            "configmaps",
            "persistentvolumeclaims",
            "replicationcontrollers",
        ),
        READ_VERBS,
    ),
    # controllerrevisions: StatefulSet/DaemonSet revisions for recent_changes.
    Rule(
        "apps",
        ("controllerrevisions", "daemonsets", "deployments", "replicasets", "statefulsets"),
        READ_VERBS,
    ),
    Rule("batch", ("jobs", "cronjobs"), READ_VERBS),
    Rule("events.k8s.io", ("events",), READ_VERBS),
    Rule("discovery.k8s.io", ("endpointslices",), READ_VERBS),
    Rule("networking.k8s.io", ("networkpolicies", "ingresses"), READ_VERBS),
    # Who changed access in the agent's namespaces (recent_changes); rules only, no Secrets.
    Rule("rbac.authorization.k8s.io", ("roles", "rolebindings"), ("get", "list")),
)
CLUSTER_READS: tuple[Rule, ...] = (Rule("", ("nodes",), READ_VERBS, cluster_scoped=True),)
# node_diagnostics asks the kubelet's /healthz through the API server's node proxy.
# Deliberately NOT in CLUSTER_READS: ``get nodes/proxy`` reaches every kubelet
# endpoint a GET can (pod logs and, over a WebSocket upgrade, exec), so it is an
# operator's explicit grant, never a phase default; without it the tool says
# "not checked" and reads the conditions the kubelet posts.
KUBELET_HEALTH_READ = Rule("", ("nodes/proxy",), ("get",), cluster_scoped=True)

# The API writes each catalog action needs when the control plane executes it as the
# agent's phase ServiceAccount (impersonation): nothing more.
ACTION_WRITES: dict[str, tuple[Rule, ...]] = {
    "restart-pod": (Rule("", ("pods",), ("delete",)),),
    "restart-deployment": (Rule("apps", ("deployments",), ("patch",)),),
    "scale-deployment": (Rule("apps", ("deployments/scale",), ("get", "patch", "update")),),
    "rollback-deployment": (Rule("apps", ("deployments",), ("patch", "update")),),
    "cordon-node": (Rule("", ("nodes",), ("patch",), cluster_scoped=True),),
    "uncordon-node": (Rule("", ("nodes",), ("patch",), cluster_scoped=True),),
    # Restores a recorded change's object (runtime/remediation/revert_kubernetes.py
    # REVERTABLE); never Secrets.
    "revert-change": (
        Rule("networking.k8s.io", ("networkpolicies", "ingresses"), ("get", "patch")),
        Rule("", ("configmaps", "services"), ("get", "patch")),
        Rule("apps", ("deployments",), ("get", "patch")),
    ),
}

WRITE_PHASES = frozenset({TrustPhase.LIMITED_REMEDIATION, TrustPhase.AUTONOMOUS_L1})


def may_write(identity: AgentIdentity) -> bool:
    """Advisory identities never write; others only from limited-remediation on."""
    return identity.authority_class is not AuthorityClass.ADVISORY and (
        identity.phase in WRITE_PHASES
    )


def approved_kubernetes_actions(identity: AgentIdentity, catalog: ActionCatalog) -> list[str]:
    """Action types in the identity's boundaries that act on Kubernetes objects."""
    found = []
    for name in sorted(identity.boundaries.action_types):
        spec = catalog.get(name)
        # revert-change is an application-domain action that writes Kubernetes objects
        # when the change it reverts touched one.
        kube = spec is not None and (spec.domain is Domain.KUBERNETES or name == "revert-change")
        if kube and name in ACTION_WRITES:
            found.append(name)
    return found


def rules_for(identity: AgentIdentity, catalog: ActionCatalog) -> tuple[Rule, ...]:
    """Every rule the identity's phase ServiceAccount should hold, merged per resource."""
    rules = list(NAMESPACED_READS) + list(CLUSTER_READS)
    if may_write(identity):
        for action in approved_kubernetes_actions(identity, catalog):
            rules.extend(ACTION_WRITES[action])
    return _merge(rules)


def declared_grants(
    identity: AgentIdentity, catalog: ActionCatalog, *, cluster_scoped: bool
) -> set[tuple[str, str, str]]:
    grants: set[tuple[str, str, str]] = set()
    for rule in rules_for(identity, catalog):
        if rule.cluster_scoped == cluster_scoped:
            grants |= rule.grants()
    return grants


def _merge(rules: list[Rule]) -> tuple[Rule, ...]:
    by_key: dict[tuple[str, str, bool], set[str]] = {}
    for rule in rules:
        for resource in rule.resources:
            by_key.setdefault((rule.group, resource, rule.cluster_scoped), set()).update(rule.verbs)
    grouped: dict[tuple[str, tuple[str, ...], bool], list[str]] = {}
    for (group, resource, cluster), verbs in by_key.items():
        grouped.setdefault((group, tuple(sorted(verbs)), cluster), []).append(resource)
    return tuple(
        sorted(
            Rule(group, tuple(sorted(resources)), verbs, cluster)
            for (group, verbs, cluster), resources in grouped.items()
        )
    )
