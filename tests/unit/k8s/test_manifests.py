"""Governance compiled to RBAC: what each class and phase may do in Kubernetes."""

from __future__ import annotations

from nightshift.domain.actions import load_action_catalog
from nightshift.domain.agents import Boundaries, Principal, register_agent
from nightshift.domain.vocabulary import AuthorityClass, PrincipalKind, Tier, TrustPhase
from nightshift.k8s.jobs import CLUSTER_IDENTITY_ENV, JobTemplate, render_job
from nightshift.k8s.manifests import RenderConfig, render_all
from nightshift.k8s.permissions import declared_grants

OWNER = Principal("alice", "Alice", PrincipalKind.HUMAN, contact="alice@example.com")
ACTIONS = frozenset({"restart-pod", "scale-deployment", "cordon-node", "clear-cache"})
BOUNDS = Boundaries(namespaces=frozenset({"shop"}), action_types=ACTIONS)
CATALOG = load_action_catalog()


def agent(cls: AuthorityClass, phase: TrustPhase, name: str = "a1"):  # type: ignore[no-untyped-def]
    return register_agent(name, OWNER, cls, phase=phase, boundaries=BOUNDS)


def writes(identity) -> set[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    grants = declared_grants(identity, CATALOG, cluster_scoped=False)
    grants |= declared_grants(identity, CATALOG, cluster_scoped=True)
    return {g for g in grants if g[2] not in ("get", "list", "watch")}


def test_shadow_and_assist_agents_get_read_only_verbs() -> None:
    assert writes(agent(AuthorityClass.SUPERVISED, TrustPhase.SHADOW)) == set()
    assert writes(agent(AuthorityClass.SUPERVISED, TrustPhase.ASSIST)) == set()


def test_advisory_agent_never_gets_write_verbs() -> None:
    assert writes(agent(AuthorityClass.ADVISORY, TrustPhase.ASSIST)) == set()


def test_limited_remediation_gets_exactly_the_verbs_of_its_approved_actions() -> None:
    granted = writes(agent(AuthorityClass.SUPERVISED, TrustPhase.LIMITED_REMEDIATION))
    assert granted == {
        ("", "pods", "delete"),
        ("apps", "deployments/scale", "patch"),
        ("apps", "deployments/scale", "update"),
        ("", "nodes", "patch"),
    }


def test_secrets_are_never_readable() -> None:
    identity = agent(AuthorityClass.AUTONOMOUS, TrustPhase.AUTONOMOUS_L1)
    grants = declared_grants(identity, CATALOG, cluster_scoped=False)
    assert not any(resource == "secrets" for _, resource, _ in grants)


def test_service_account_names_owner_and_class_and_advisory_ones_are_listed_for_admission() -> None:
    advisory = agent(AuthorityClass.ADVISORY, TrustPhase.SHADOW, "adv")
    objects = render_all([advisory], CATALOG, RenderConfig())
    sa = next(o for o in objects if o["kind"] == "ServiceAccount")
    assert sa["metadata"]["annotations"]["nightshift.io/owner"] == "alice"
    assert sa["metadata"]["labels"]["nightshift.io/authority-class"] == "advisory"
    params = next(o for o in objects if o["kind"] == "ConfigMap")
    assert params["data"] == {"nsa-adv-shadow": "advisory"}


def test_network_policy_denies_ingress_and_limits_egress() -> None:
    identity = agent(AuthorityClass.SUPERVISED, TrustPhase.SHADOW)
    netpol = next(
        o for o in render_all([identity], CATALOG, RenderConfig()) if o["kind"] == "NetworkPolicy"
    )
    assert "ingress" not in netpol["spec"]  # with Ingress in policyTypes: deny all
    assert set(netpol["spec"]["policyTypes"]) == {"Ingress", "Egress"}
    assert len(netpol["spec"]["egress"]) == 2  # DNS and the control plane only


def test_kueue_job_is_suspended_with_queue_and_priority_labels() -> None:
    template = JobTemplate(kueue_queue="q", kueue_priority_class={Tier.MULTI_DOMAIN: "high"})
    job = render_job(
        template,
        investigation_id="i1",
        agent="a1",
        phase="shadow",
        tier=Tier.MULTI_DOMAIN,
        api_url="http://cp",
        deadline_seconds=900,
    )
    assert job["spec"]["suspend"] is True
    assert job["metadata"]["labels"]["kueue.x-k8s.io/queue-name"] == "q"
    assert job["metadata"]["labels"]["kueue.x-k8s.io/priority-class"] == "high"
    plain = render_job(
        JobTemplate(),
        investigation_id="i1",
        agent="a1",
        phase="shadow",
        tier=Tier.MULTI_DOMAIN,
        api_url="http://cp",
        deadline_seconds=900,
    )
    assert plain["spec"]["suspend"] is False
    assert "kueue.x-k8s.io/queue-name" not in plain["metadata"]["labels"]


def test_api_token_is_mounted_only_for_toolsets_that_read_the_cluster() -> None:
    kwargs = {
        "investigation_id": "i1",
        "agent": "a1",
        "phase": "shadow",
        "tier": Tier.SINGLE_DOMAIN,
        "api_url": "http://cp",
        "deadline_seconds": 60,
    }
    simulated = render_job(JobTemplate(), **kwargs)  # type: ignore[arg-type]
    live = render_job(JobTemplate(), extra_env={CLUSTER_IDENTITY_ENV: "serviceaccount"}, **kwargs)  # type: ignore[arg-type]
    assert simulated["spec"]["template"]["spec"]["automountServiceAccountToken"] is False
    assert live["spec"]["template"]["spec"]["automountServiceAccountToken"] is True
