from __future__ import annotations

import re

import pytest

from nightshift.domain.vocabulary import Domain, TrustPhase
from nightshift.secrets.policies import (
    VaultLayout,
    all_investigation_policies,
    generate_policies,
    parse_sources,
    policies_for,
    render_policies,
)


def _rules(hcl: str) -> dict[str, list[str]]:
    """``{path: capabilities}`` parsed from the generated HCL."""
    pattern = re.compile(r'path "([^"]+)" \{\s*capabilities = \[([^\]]*)\]\s*\}')
    return {p: re.findall(r'"([^"]+)"', caps) for p, caps in pattern.findall(hcl)}


def test_generated_policies_cover_the_control_plane_every_phase_and_every_domain() -> None:
    names = set(generate_policies())
    assert names == {
        "nightshift-control-plane",
        *(f"nightshift-phase-{p.value}" for p in TrustPhase),
        *(f"nightshift-domain-{d.value}" for d in Domain),
    }


def test_observe_only_phases_deny_remediation_paths() -> None:
    policies = generate_policies()
    for phase in (TrustPhase.SHADOW, TrustPhase.ASSIST):
        rules = _rules(policies[f"nightshift-phase-{phase.value}"])
        assert rules["secret/data/nightshift/remediation/*"] == ["deny"]


def test_remediating_phases_may_read_remediation_paths() -> None:
    policies = generate_policies()
    for phase in (TrustPhase.LIMITED_REMEDIATION, TrustPhase.AUTONOMOUS_L1):
        rules = _rules(policies[f"nightshift-phase-{phase.value}"])
        assert rules["secret/data/nightshift/remediation/*"] == ["read"]


def test_a_domain_policy_reads_only_its_own_datasources_and_database_roles() -> None:
    rules = _rules(generate_policies()["nightshift-domain-network"])
    assert rules == {
        "secret/data/nightshift/datasources/network/*": ["read"],
        "database/creds/nightshift-network-*": ["read"],
    }


def test_the_control_plane_policy_mints_and_revokes_but_reads_no_secret() -> None:
    rules = _rules(generate_policies()["nightshift-control-plane"])
    assert "auth/token/create/nightshift-investigation" in rules
    assert "auth/token/revoke-accessor" in rules
    assert not any(p.startswith(("secret/", "database/creds")) for p in rules)


def test_custom_mounts_appear_in_every_policy() -> None:
    layout = VaultLayout(kv_mount="kv-ops", prefix="ns", database_mount="pg")
    policies = generate_policies(layout)
    assert "kv-ops/data/ns/datasources/database/*" in _rules(policies["nightshift-domain-database"])
    assert "pg/creds/ns-database-*" in _rules(policies["nightshift-domain-database"])
    assert "kv-ops/data/ns/remediation/*" in _rules(policies["nightshift-phase-shadow"])


def test_a_token_carries_its_phase_policy_and_one_policy_per_granted_domain() -> None:
    assert policies_for(TrustPhase.ASSIST, {Domain.SECURITY, Domain.NETWORK}) == [
        "nightshift-phase-assist",
        "nightshift-domain-network",
        "nightshift-domain-security",
    ]


def test_the_token_role_allow_list_excludes_the_control_plane_policy() -> None:
    allowed = all_investigation_policies()
    assert "nightshift-control-plane" not in allowed
    assert len(allowed) == len(TrustPhase) + len(Domain)


def test_rendered_policies_name_each_policy_before_its_rules() -> None:
    text = render_policies()
    for name, hcl in generate_policies().items():
        assert f"# ---- policy: {name}\n{hcl}" in text


def test_dynamic_sources_are_parsed_from_a_comma_list() -> None:
    assert parse_sources(" database/orders, database/incidents ,") == [
        (Domain.DATABASE, "orders"),
        (Domain.DATABASE, "incidents"),
    ]
    assert parse_sources("") == []


@pytest.mark.parametrize("bad", ["database", "nosuchdomain/x", "database/a/b"])
def test_a_malformed_dynamic_source_is_rejected(bad: str) -> None:
    with pytest.raises(ValueError, match="known domain"):
        parse_sources(bad)


def test_the_control_plane_may_sign_and_verify_with_the_audit_transit_key_only() -> None:
    rules = _rules(generate_policies()["nightshift-control-plane"])
    assert rules["transit/sign/nightshift-audit"] == ["update"]
    assert rules["transit/verify/nightshift-audit"] == ["update"]
    # never read, export, rotate or delete the key itself
    assert not [p for p in rules if p.startswith("transit/keys") or p.startswith("transit/export")]
    custom = generate_policies(VaultLayout(transit_mount="tr", audit_transit_key="k"))
    assert 'path "tr/sign/k"' in custom["nightshift-control-plane"]
