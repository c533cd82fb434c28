"""Governance compiled to native Kubernetes objects.

From each agent identity (owner, authority class, trust phase, boundaries)
and the action catalog: the phase's ServiceAccount, Roles/RoleBindings (or a
ClusterRole for "every namespace"), a NetworkPolicy for its workers' egress,
and the admission policies that hold even when RBAC is widened by hand.
The output is deterministic, so ``render`` diffs cleanly and ``drift`` can
compare it with what the API server holds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from nightshift.domain.actions import ActionCatalog
from nightshift.domain.agents import ALL_NAMESPACES, AgentIdentity
from nightshift.domain.vocabulary import AuthorityClass, Domain
from nightshift.k8s.admission import (
    ANNOTATION_OWNER,
    LABEL_CLASS,
    advisory_policy,
    ownership_policy,
)
from nightshift.k8s.jobs import COMPONENT, LABEL_AGENT, LABEL_PHASE, MANAGED_BY
from nightshift.k8s.names import dns_label, label_value, service_account_name
from nightshift.k8s.permissions import rules_for

Obj = dict[str, Any]
ANNOTATION_CONTACT = "nightshift.io/owner-contact"
ANNOTATION_ACTIONS = "nightshift.io/approved-actions"


@dataclass(frozen=True, slots=True)
class EgressTarget:
    """Where workers of a domain may connect: a CIDR or a namespace, and ports."""

    cidr: str | None = None
    namespace: str | None = None
    ports: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class RenderConfig:
    agents_namespace: str = "nightshift-agents"
    control_plane_namespace: str = "nightshift"
    control_plane_port: int = 8080
    api_server_cidrs: tuple[str, ...] = ()  # for workers whose toolset reads the cluster
    domain_egress: Mapping[Domain, tuple[EgressTarget, ...]] = field(default_factory=dict)


def role_name(identity: AgentIdentity) -> str:
    return dns_label(f"nightshift-{identity.name}-{identity.phase.value}", max_len=253)


def _labels(identity: AgentIdentity) -> dict[str, str]:
    return {
        MANAGED_BY: "nightshift",
        LABEL_AGENT: label_value(identity.name),
        LABEL_PHASE: label_value(identity.phase.value),
        LABEL_CLASS: identity.authority_class.value,
    }


def service_account(identity: AgentIdentity, cfg: RenderConfig) -> Obj:
    owner = identity.owner
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {
            "name": service_account_name(identity.name, identity.phase.value),
            "namespace": cfg.agents_namespace,
            "labels": _labels(identity),
            "annotations": {
                ANNOTATION_OWNER: owner.id,
                ANNOTATION_CONTACT: owner.contact or "",
                ANNOTATION_ACTIONS: ",".join(sorted(identity.boundaries.action_types)),
            },
        },
        # Tokens are projected into worker pods only where the Job asks for one.
        "automountServiceAccountToken": False,
    }


def rbac(identity: AgentIdentity, catalog: ActionCatalog, cfg: RenderConfig) -> list[Obj]:
    name = role_name(identity)
    subject = {
        "kind": "ServiceAccount",
        "name": service_account_name(identity.name, identity.phase.value),
        "namespace": cfg.agents_namespace,
    }
    rules = rules_for(identity, catalog)
    namespaced = [r.as_policy_rule() for r in rules if not r.cluster_scoped]
    cluster = [r.as_policy_rule() for r in rules if r.cluster_scoped]
    everywhere = ALL_NAMESPACES in identity.boundaries.namespaces
    out: list[Obj] = []
    if everywhere:
        cluster = namespaced + cluster
    else:
        for ns in sorted(identity.boundaries.namespaces):
            meta = {"name": name, "namespace": ns, "labels": _labels(identity)}
            out.append(
                {
                    "apiVersion": "rbac.authorization.k8s.io/v1",
                    "kind": "Role",
                    "metadata": meta,
                    "rules": namespaced,
                }
            )
            out.append(
                {
                    "apiVersion": "rbac.authorization.k8s.io/v1",
                    "kind": "RoleBinding",
                    "metadata": dict(meta),
                    "roleRef": {
                        "apiGroup": "rbac.authorization.k8s.io",
                        "kind": "Role",
                        "name": name,
                    },
                    "subjects": [subject],
                }
            )
    meta = {"name": name, "labels": _labels(identity)}
    out.append(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": meta,
            "rules": cluster,
        }
    )
    out.append(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": dict(meta),
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": name,
            },
            "subjects": [subject],
        }
    )
    return out


def network_policy(identity: AgentIdentity, cfg: RenderConfig) -> Obj:
    """Deny-by-default for the agent's worker pods; egress to what its domains reach."""
    port = [{"protocol": "TCP", "port": cfg.control_plane_port}]
    egress: list[Obj] = [
        {  # cluster DNS
            "to": [
                {
                    "namespaceSelector": {
                        "matchLabels": {"kubernetes.io/metadata.name": "kube-system"}
                    }
                }
            ],
            "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
        },
        {  # the control plane: spec, events, proposals, result
            "to": [
                {
                    "namespaceSelector": {
                        "matchLabels": {"kubernetes.io/metadata.name": cfg.control_plane_namespace}
                    }
                }
            ],
            "ports": port,
        },
    ]
    domains = identity.boundaries.domains
    if Domain.KUBERNETES in domains and cfg.api_server_cidrs:
        egress.append(
            {
                "to": [{"ipBlock": {"cidr": c}} for c in cfg.api_server_cidrs],
                "ports": [{"protocol": "TCP", "port": 443}, {"protocol": "TCP", "port": 6443}],
            }
        )
    for domain in sorted(domains, key=lambda d: d.value):
        for target in cfg.domain_egress.get(domain, ()):
            peer: Obj = (
                {"ipBlock": {"cidr": target.cidr}}
                if target.cidr
                else {
                    "namespaceSelector": {
                        "matchLabels": {"kubernetes.io/metadata.name": target.namespace or ""}
                    }
                }
            )
            rule: Obj = {"to": [peer]}
            if target.ports:
                rule["ports"] = [{"protocol": "TCP", "port": p} for p in target.ports]
            egress.append(rule)
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {
            "name": role_name(identity),
            "namespace": cfg.agents_namespace,
            "labels": _labels(identity),
        },
        "spec": {
            "podSelector": {
                "matchLabels": {
                    COMPONENT: "agent-worker",
                    LABEL_AGENT: label_value(identity.name),
                    LABEL_PHASE: label_value(identity.phase.value),
                }
            },
            "policyTypes": ["Ingress", "Egress"],
            # No "ingress" rules with Ingress in policyTypes: deny all inbound. (An explicit
            # empty list would make every server-side apply bump the generation.)
            "egress": egress,
        },
    }


def namespace(cfg: RenderConfig) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": cfg.agents_namespace,
            "labels": {
                MANAGED_BY: "nightshift",
                "pod-security.kubernetes.io/enforce": "restricted",
            },
        },
    }


def render_agent(identity: AgentIdentity, catalog: ActionCatalog, cfg: RenderConfig) -> list[Obj]:
    return [
        service_account(identity, cfg),
        *rbac(identity, catalog, cfg),
        network_policy(identity, cfg),
    ]


def render_all(
    identities: Iterable[AgentIdentity], catalog: ActionCatalog, cfg: RenderConfig
) -> list[Obj]:
    """Everything, in apply order: namespace, admission, then each agent's objects."""
    agents = sorted(identities, key=lambda a: a.name)
    advisory = [
        service_account_name(a.name, a.phase.value)
        for a in agents
        if a.authority_class is AuthorityClass.ADVISORY
    ]
    out: list[Obj] = [namespace(cfg)]
    out += ownership_policy(cfg.agents_namespace)
    out += advisory_policy(cfg.agents_namespace, advisory)
    for identity in agents:
        out += render_agent(identity, catalog, cfg)
    return out
