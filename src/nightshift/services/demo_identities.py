"""First-start setup for the embedded mode: a demo owner, agent and token."""

from __future__ import annotations

from nightshift.domain.actions import load_action_catalog
from nightshift.domain.vocabulary import AuthorityClass, Domain, PrincipalKind, Role, TrustPhase
from nightshift.services.agents import AgentService
from nightshift.services.principals import PrincipalService

DEMO_OWNER = "demo-owner"
DEMO_AGENT = "triage"
# Boundaries are deny-by-default; the demo agent may read every domain in
# every namespace and propose the catalog's actions.
DEMO_BOUNDARIES = {
    "namespaces": ["*"],
    "domains": [d.value for d in Domain],
    "action_types": sorted(spec.name for spec in load_action_catalog()),
}


def ensure_demo(principals: PrincipalService, agents: AgentService) -> str | None:
    """Create the demo identities if the registry is empty; returns a new token then."""
    if principals.list_users():
        return None
    principals.create_user(
        DEMO_OWNER,
        kind=PrincipalKind.HUMAN,
        roles=frozenset({Role.ADMIN}),
        contact="demo-owner@localhost",
    )
    agents.register(
        DEMO_AGENT,
        owner=DEMO_OWNER,
        authority_class=AuthorityClass.SUPERVISED.value,
        trust_phase=TrustPhase.ASSIST.value,
        description="2 AM incident triage agent (demo)",
        boundaries=DEMO_BOUNDARIES,
    )
    return principals.create_token(DEMO_OWNER, description="created by `nightshift up`")
