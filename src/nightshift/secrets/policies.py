"""The Vault/OpenBao policies Nightshift expects, generated from the mount layout.

Every per-investigation token carries exactly two kinds of policy, by name:
``nightshift-phase-<phase>`` and one ``nightshift-domain-<domain>`` per
granted domain. The worker asks for the same paths in every phase; what the
server grants depends on the *content* of the phase policy. Promoting an
agent therefore changes which named policy its next token carries (a
configuration change), and tightening a phase changes a policy in Vault --
never code.

Policies are additive in Vault except for ``deny``, which wins over every
grant: the observe-only phases deny the remediation tree outright so no
domain policy (or a careless future one) can open it.

``nightshift vault policies`` prints :func:`generate_policies`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from nightshift.domain.vocabulary import Domain, TrustPhase

_OBSERVE_ONLY = frozenset({TrustPhase.SHADOW, TrustPhase.ASSIST})


@dataclass(frozen=True, slots=True)
class VaultLayout:
    """Where Nightshift's secrets live on the server (all configurable)."""

    kv_mount: str = "secret"  # a KV version 2 engine
    prefix: str = "nightshift"
    database_mount: str = "database"
    token_role: str = "nightshift-investigation"  # noqa: S105 -- a role name
    control_plane_policy: str = "nightshift-control-plane"
    transit_mount: str = "transit"  # the transit engine signing the audit anchors
    audit_transit_key: str = "nightshift-audit"  # its ed25519 key (never exported)

    def datasource_path(self, domain: Domain, source: str) -> str:
        """KV path (relative to the mount) of a data-source secret."""
        return f"{self.prefix}/datasources/{domain.value}/{source}"

    def remediation_path(self, name: str) -> str:
        """KV path (relative to the mount) of a remediation credential."""
        return f"{self.prefix}/remediation/{name}"

    def database_role(self, domain: Domain, source: str) -> str:
        """Name of the database-engine role that mints credentials for a source."""
        return f"{self.prefix}-{domain.value}-{source}"


def phase_policy_name(phase: TrustPhase) -> str:
    return f"nightshift-phase-{phase.value}"


def domain_policy_name(domain: Domain) -> str:
    return f"nightshift-domain-{domain.value}"


def policies_for(phase: TrustPhase, domains: Iterable[Domain]) -> list[str]:
    """The policy names a token for this phase and these domains carries."""
    return [phase_policy_name(phase), *sorted(domain_policy_name(d) for d in domains)]


def all_investigation_policies() -> list[str]:
    """Every policy a per-investigation token may carry (the token role's allow-list)."""
    return [phase_policy_name(p) for p in TrustPhase] + [domain_policy_name(d) for d in Domain]


def _path(path: str, *capabilities: str) -> str:
    caps = ", ".join(f'"{c}"' for c in capabilities)
    return f'path "{path}" {{\n  capabilities = [{caps}]\n}}\n'


def phase_policy(phase: TrustPhase, layout: VaultLayout) -> str:
    kv, p = layout.kv_mount, layout.prefix
    lines = [
        f"# Nightshift trust phase {phase.value}: what any investigation in this phase may do\n",
        "# beyond its domain policies. Edit here (not in code) to tighten or widen a phase.\n",
        _path("sys/leases/renew", "update"),
    ]
    if phase in _OBSERVE_ONLY:
        lines += [
            "# Observe-only: remediation credentials are denied whatever else is attached.\n",
            _path(f"{kv}/data/{p}/remediation/*", "deny"),
            _path(f"{kv}/metadata/{p}/remediation/*", "deny"),
        ]
    else:
        lines += [
            "# Remediation credentials (the control plane's executors use them after approval).\n",
            _path(f"{kv}/data/{p}/remediation/*", "read"),
        ]
    return "".join(lines)


def domain_policy(domain: Domain, layout: VaultLayout) -> str:
    kv, p, db = layout.kv_mount, layout.prefix, layout.database_mount
    return "".join(
        [
            f"# Nightshift domain {domain.value}: read-only data-source credentials.\n",
            _path(f"{kv}/data/{p}/datasources/{domain.value}/*", "read"),
            _path(f"{db}/creds/{p}-{domain.value}-*", "read"),
        ]
    )


def control_plane_policy(layout: VaultLayout) -> str:
    """The control plane mints, looks up and revokes identities; it reads no secret
    itself. It may have the audit head signed and checked with the transit key, but
    never read, export, rotate or delete that key."""
    transit, key = layout.transit_mount, layout.audit_transit_key
    return "".join(
        [
            "# Nightshift control plane: mint per-investigation tokens, revoke them and\n"
            "# their leases. It reads no secret itself.\n",
            _path(f"auth/token/create/{layout.token_role}", "update"),
            _path("auth/token/lookup-accessor", "update"),
            _path("auth/token/revoke-accessor", "update"),
            _path("sys/leases/renew", "update"),
            _path("sys/leases/revoke", "update"),
            _path("sys/leases/lookup", "update"),
            "# Sign the audit chain's head, and check signed heads, with a key it cannot read.\n",
            _path(f"{transit}/sign/{key}", "update"),
            _path(f"{transit}/verify/{key}", "update"),
        ]
    )


def generate_policies(layout: VaultLayout | None = None) -> dict[str, str]:
    """``{policy_name: hcl}`` for every policy Nightshift expects on the server."""
    layout = layout or VaultLayout()
    out = {layout.control_plane_policy: control_plane_policy(layout)}
    out.update({phase_policy_name(p): phase_policy(p, layout) for p in TrustPhase})
    out.update({domain_policy_name(d): domain_policy(d, layout) for d in Domain})
    return out


def render_policies(layout: VaultLayout | None = None) -> str:
    """What ``nightshift vault policies`` prints: every policy, headed by its name."""
    return "\n".join(
        f"# ---- policy: {name}\n{hcl}" for name, hcl in generate_policies(layout).items()
    )


def parse_sources(value: str) -> list[tuple[Domain, str]]:
    """``"database/orders, database/incidents"`` (NIGHTSHIFT_VAULT_DYNAMIC_SOURCES) as pairs."""
    pairs = []
    for item in filter(None, (part.strip() for part in value.split(","))):
        domain, sep, source = item.partition("/")
        if not sep or not source or "/" in source or domain not in Domain.__members__.values():
            raise ValueError(f"expected <domain>/<source> with a known domain, got {item!r}")
        pairs.append((Domain(domain), source))
    return pairs
