"""The Helm chart's agent values, compiled from the same renderer as ``k8s render``.

One source of truth: the chart (deploy/helm/nightshift) has no RBAC rules of
its own; it emits ``agents.common`` and every ``agents.rendered.<name>.objects``
verbatim. This module produces those values, plus the per-phase settings a
reviewed values file carries (Vault policy, egress, worker limits), so a
``values-<environment>-<phase>.yaml`` is generated, never hand-written
(``scripts/gen-helm-values``; a test fails when a checked-in file differs).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from nightshift.domain.actions import ActionCatalog
from nightshift.domain.agent_codec import identity_to
from nightshift.domain.agents import AgentIdentity
from nightshift.domain.vocabulary import TrustPhase
from nightshift.k8s.admission import advisory_policy, ownership_policy
from nightshift.k8s.manifests import RenderConfig, namespace, render_agent
from nightshift.k8s.names import service_account_name
from nightshift.secrets.policies import phase_policy_name

ENVIRONMENTS = ("dev", "staging", "production")
PHASES = tuple(p.value for p in TrustPhase)

# Worker limits grow with what the phase may do (remediation verifies and rolls back).
_WORKER_LIMITS = {
    TrustPhase.SHADOW: {"cpu": "500m", "memory": "512Mi"},
    TrustPhase.ASSIST: {"cpu": "500m", "memory": "512Mi"},
    TrustPhase.LIMITED_REMEDIATION: {"cpu": "1", "memory": "768Mi"},
    TrustPhase.AUTONOMOUS_L1: {"cpu": "1", "memory": "1Gi"},
}
_CONTROL_PLANE = {
    "dev": {"replicas": 1, "limits": {"cpu": "1", "memory": "512Mi"}},
    "staging": {"replicas": 2, "limits": {"cpu": "1", "memory": "1Gi"}},
    "production": {"replicas": 2, "limits": {"cpu": "2", "memory": "2Gi"}},
}


def agents_values(
    identities: Iterable[AgentIdentity], catalog: ActionCatalog, cfg: RenderConfig
) -> dict[str, Any]:
    """``{"agents": {...}}``: what the chart emits for the agents, verbatim."""
    agents = sorted(identities, key=lambda a: a.name)
    advisory = [
        service_account_name(a.name, a.phase.value)
        for a in agents
        if a.authority_class.value == "advisory"
    ]
    common = [
        namespace(cfg),
        *ownership_policy(cfg.agents_namespace),
        *advisory_policy(cfg.agents_namespace, advisory),
    ]
    rendered = {
        a.name: {
            "phase": a.phase.value,
            "owner": a.owner.id,
            "identity": identity_to(a),
            "objects": render_agent(a, catalog, cfg),
        }
        for a in agents
    }
    return {"agents": {"namespace": cfg.agents_namespace, "common": common, "rendered": rendered}}


def phase_values(
    environment: str,
    phase: TrustPhase,
    identities: Iterable[AgentIdentity],
    catalog: ActionCatalog,
    cfg: RenderConfig,
) -> dict[str, Any]:
    """A complete reviewed values file: one environment, every agent in one phase."""
    if environment not in ENVIRONMENTS:
        raise ValueError(f"unknown environment {environment!r} (one of {', '.join(ENVIRONMENTS)})")
    at_phase = [replace(a, phase=phase) for a in identities]
    values: dict[str, Any] = {
        "environment": environment,
        "phase": phase.value,
        "vault": {"policy": phase_policy_name(phase)},
        "controlPlane": _CONTROL_PLANE[environment],
        "workers": {"limits": _WORKER_LIMITS[phase]},
        "egress": {
            "apiServerCidrs": list(cfg.api_server_cidrs),
            "domains": {
                d.value: [
                    {k: v for k, v in (("cidr", t.cidr), ("namespace", t.namespace)) if v}
                    | ({"ports": list(t.ports)} if t.ports else {})
                    for t in targets
                ]
                for d, targets in sorted(cfg.domain_egress.items(), key=lambda kv: kv[0].value)
            },
        },
    }
    values.update(agents_values(at_phase, catalog, cfg))
    return values
