"""Owners and agent identities: accountability rules hold at registration and after."""

from __future__ import annotations

import pytest

from nightshift.domain.agents import (
    AgentConfigError,
    AgentIdentity,
    AgentStatus,
    Boundaries,
    OwnershipError,
    Principal,
    on_owner_deactivated,
    parse_authority_class,
    parse_trust_phase,
    register_agent,
    transfer_ownership,
)
from nightshift.domain.vocabulary import AuthorityClass, Domain, PrincipalKind, Role, TrustPhase


def person(
    pid: str = "olivia", *, active: bool = True, contact: str | None = "o@x.org"
) -> Principal:
    return Principal(
        pid, pid.title(), PrincipalKind.HUMAN, frozenset({Role.OPERATOR}), contact, active
    )


def register(**kw: object) -> AgentIdentity:
    args: dict[str, object] = {
        "name": "triage",
        "owner": person(),
        "authority_class": AuthorityClass.AUTONOMOUS,
    }
    args.update(kw)
    return register_agent(**args)  # type: ignore[arg-type]


def test_registered_agent_starts_in_shadow_with_an_active_human_owner() -> None:
    identity = register()
    assert identity.phase is TrustPhase.SHADOW
    assert identity.status is AgentStatus.ACTIVE
    assert identity.may_act


def test_owner_that_is_not_a_human_is_refused() -> None:
    bot = Principal("ci-bot", "CI", PrincipalKind.SERVICE, frozenset({Role.ADMIN}), "ci@x.org")
    with pytest.raises(OwnershipError, match="only a human"):
        register(owner=bot)


def test_inactive_or_unreachable_owner_is_refused() -> None:
    with pytest.raises(OwnershipError, match="deactivated"):
        register(owner=person(active=False))
    with pytest.raises(OwnershipError, match="no contact"):
        register(owner=person(contact=" "))


def test_agent_cannot_own_itself() -> None:
    with pytest.raises(OwnershipError):
        register(owner=person("triage"))


@pytest.mark.parametrize("name", ["", "Triage", "-x", "x" * 64, "a_b"])
def test_malformed_agent_name_is_refused(name: str) -> None:
    with pytest.raises(AgentConfigError):
        register(name=name)


def test_registration_above_the_class_ceiling_is_refused() -> None:
    with pytest.raises(AgentConfigError, match="exceeds the ceiling"):
        register(authority_class=AuthorityClass.ADVISORY, phase=TrustPhase.LIMITED_REMEDIATION)


def test_unknown_class_or_phase_is_refused_with_the_allowed_values() -> None:
    with pytest.raises(AgentConfigError, match="advisory, supervised"):
        parse_authority_class("godmode")
    with pytest.raises(AgentConfigError, match="shadow, assist"):
        parse_trust_phase("autonomous-l2")
    assert parse_trust_phase("assist") is TrustPhase.ASSIST


def test_owner_deactivation_suspends_their_agents_only() -> None:
    mine, theirs = register(), register(name="netdiag", owner=person("sam"))
    after = on_owner_deactivated((mine, theirs), "olivia")
    assert after[0].status is AgentStatus.SUSPENDED
    assert not after[0].may_act
    assert after[1].status is AgentStatus.ACTIVE


def test_transfer_to_an_active_human_lifts_an_owner_suspension() -> None:
    suspended = on_owner_deactivated((register(),), "olivia")[0]
    moved = transfer_ownership(suspended, person("sam"))
    assert moved.owner.id == "sam"
    assert moved.status is AgentStatus.ACTIVE
    assert moved.may_act


def test_transfer_keeps_other_suspensions_and_refuses_non_humans() -> None:
    held = register().suspended("incident review")
    assert transfer_ownership(held, person("sam")).status is AgentStatus.SUSPENDED
    bot = Principal("bot", "Bot", PrincipalKind.SERVICE, frozenset(), "b@x.org")
    with pytest.raises(OwnershipError):
        transfer_ownership(held, bot)


def test_agent_whose_owner_went_inactive_may_not_act_even_before_suspension() -> None:
    identity = register()
    orphaned = AgentIdentity(
        identity.name, person(active=False), identity.authority_class, identity.phase
    )
    assert not orphaned.may_act


def test_boundaries_round_trip_and_refuse_bad_input() -> None:
    b = Boundaries(
        namespaces=frozenset({"shop"}),
        domains=frozenset({Domain.NETWORK}),
        action_types=frozenset({"revert-firewall-rule"}),
        max_depth=2,
        max_cost_usd=1.5,
    )
    assert Boundaries.from_dict(b.to_dict()) == b
    for bad in (
        {"domains": ["space"]},
        {"max_depth": "3"},
        {"max_depth": 2.5},
        {"namespaces": "shop"},
        {"color": "red"},
        {"max_depth": True},
    ):
        with pytest.raises(AgentConfigError):
            Boundaries.from_dict(bad)


def test_boundary_namespace_wildcard() -> None:
    assert Boundaries(namespaces=frozenset({"*"})).allows_namespace("anything")
    assert not Boundaries(namespaces=frozenset({"shop"})).allows_namespace("*")
