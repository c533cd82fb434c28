"""The reads the cluster's diagnostic tools need are in every phase's RBAC, and the
kubelet proxy is not (it reaches more than /healthz)."""

from __future__ import annotations

from nightshift.domain.actions import load_action_catalog
from nightshift.domain.agents import Boundaries, Principal, register_agent
from nightshift.domain.vocabulary import AuthorityClass, PrincipalKind, TrustPhase
from nightshift.k8s.permissions import KUBELET_HEALTH_READ, declared_grants

OWNER = Principal("alice", "Alice", PrincipalKind.HUMAN, contact="alice@example.com")
CATALOG = load_action_catalog()


def grants(
    phase: TrustPhase, cls: AuthorityClass = AuthorityClass.AUTONOMOUS
) -> set[tuple[str, str, str]]:
    identity = register_agent(
        "a1", OWNER, cls, phase=phase,
        boundaries=Boundaries(namespaces=frozenset({"shop"})),
    )  # fmt: skip
    return declared_grants(identity, CATALOG, cluster_scoped=False) | declared_grants(
        identity, CATALOG, cluster_scoped=True
    )


def test_a_shadow_identity_may_list_revisions_policies_and_rbac() -> None:
    granted = grants(TrustPhase.SHADOW, AuthorityClass.SUPERVISED)
    for needed in (
        ("apps", "controllerrevisions", "list"),
        ("apps", "replicasets", "list"),
        ("networking.k8s.io", "networkpolicies", "list"),
        ("networking.k8s.io", "ingresses", "list"),
        ("rbac.authorization.k8s.io", "roles", "list"),
        ("rbac.authorization.k8s.io", "rolebindings", "get"),
        ("", "nodes", "list"),
        ("", "events", "list"),
    ):
        assert needed in granted, needed


def test_rbac_objects_are_read_without_watch_and_the_kubelet_proxy_is_never_a_default() -> None:
    for phase in TrustPhase:
        granted = grants(phase)
        assert ("rbac.authorization.k8s.io", "roles", "watch") not in granted
        assert not any(resource == "nodes/proxy" for _, resource, _ in granted), phase
    assert KUBELET_HEALTH_READ.grants() == {("", "nodes/proxy", "get")}
    assert KUBELET_HEALTH_READ.cluster_scoped
