"""Provision a Vault/OpenBao server for Nightshift (idempotent; run with an admin token).

What docs/secrets.md describes, as code: the policies, the token role the
broker mints per-investigation tokens against, the database secrets engine
for dynamic credentials and the JWT auth role for in-cluster workers. The
integration tests provision their dev server with exactly these functions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from nightshift.domain.vocabulary import Domain
from nightshift.secrets.policies import VaultLayout, all_investigation_policies, generate_policies
from nightshift.secrets.vault_client import vault_errors


def apply_policies(admin: Any, layout: VaultLayout | None = None) -> list[str]:
    """Write every generated policy; returns their names."""
    policies = generate_policies(layout)
    with vault_errors("writing policies"):
        for name, hcl in policies.items():
            admin.sys.create_or_update_policy(name=name, policy=hcl)
    return sorted(policies)


def ensure_token_role(
    admin: Any, layout: VaultLayout | None = None, *, max_ttl: str = "24h"
) -> None:
    """The role per-investigation tokens are minted against.

    Orphan tokens, so revoking or rotating the control plane's own token does
    not take running investigations down with it; their lifetime is bounded
    per token by the deadline instead. Only Nightshift policies are allowed.
    """
    layout = layout or VaultLayout()
    with vault_errors("writing the token role"):
        admin.write_data(
            f"auth/token/roles/{layout.token_role}",
            data={
                "allowed_policies": all_investigation_policies(),
                "disallowed_policies": ["root"],
                "orphan": True,
                "renewable": True,
                "token_type": "service",
                "token_explicit_max_ttl": max_ttl,
            },
        )


def ensure_kv_v2(admin: Any, layout: VaultLayout | None = None) -> None:
    layout = layout or VaultLayout()
    with vault_errors("enabling the KV engine"):
        mounts = admin.sys.list_mounted_secrets_engines()["data"]
        if f"{layout.kv_mount}/" not in mounts:
            admin.sys.enable_secrets_engine("kv", path=layout.kv_mount, options={"version": "2"})


def ensure_transit_key(admin: Any, layout: VaultLayout | None = None) -> None:
    """The transit engine and the ed25519 key the audit anchors are signed with.

    Not exportable and not deletable: the private key never leaves the server, so
    whoever writes Nightshift's database cannot re-sign a forged head.
    """
    layout = layout or VaultLayout()
    mount, key = layout.transit_mount, layout.audit_transit_key
    with vault_errors("enabling the transit engine"):
        if f"{mount}/" not in admin.sys.list_mounted_secrets_engines()["data"]:
            admin.sys.enable_secrets_engine("transit", path=mount)
        admin.write_data(f"{mount}/keys/{key}", data={"type": "ed25519", "exportable": False})
        admin.write_data(f"{mount}/keys/{key}/config", data={"deletion_allowed": False})


def put_datasource_secret(
    admin: Any,
    domain: Domain,
    source: str,
    values: Mapping[str, str],
    layout: VaultLayout | None = None,
) -> None:
    """Create or rotate a data-source secret; the next investigation reads the new version."""
    layout = layout or VaultLayout()
    with vault_errors("writing a data-source secret"):
        admin.secrets.kv.v2.create_or_update_secret(
            path=layout.datasource_path(domain, source),
            secret=dict(values),
            mount_point=layout.kv_mount,
        )


def configure_postgres(
    admin: Any,
    *,
    connection: str,
    connection_url: str,
    username: str,
    password: str,
    allowed_roles: Sequence[str],
    layout: VaultLayout | None = None,
) -> None:
    """A PostgreSQL connection for the database engine.

    ``connection_url`` uses ``{{username}}``/``{{password}}`` placeholders so
    the admin password is stored by Vault only and never appears in a URL.
    """
    layout = layout or VaultLayout()
    with vault_errors("configuring the database engine"):
        mounts = admin.sys.list_mounted_secrets_engines()["data"]
        if f"{layout.database_mount}/" not in mounts:
            admin.sys.enable_secrets_engine("database", path=layout.database_mount)
        admin.write_data(
            f"{layout.database_mount}/config/{connection}",
            data={
                "plugin_name": "postgresql-database-plugin",
                "connection_url": connection_url,
                "username": username,
                "password": password,
                "allowed_roles": list(allowed_roles),
                "verify_connection": True,
            },
        )


# Read-only by default: an investigation diagnoses, it does not write.
DEFAULT_CREATION_STATEMENTS = (
    "CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';",
    'GRANT pg_read_all_data TO "{{name}}";',
    'GRANT pg_monitor TO "{{name}}";',
)
DEFAULT_REVOCATION_STATEMENTS = (
    'REVOKE ALL PRIVILEGES ON ALL TABLES IN SCHEMA public FROM "{{name}}";',
    'DROP ROLE IF EXISTS "{{name}}";',
)


def ensure_database_role(
    admin: Any,
    domain: Domain,
    source: str,
    *,
    connection: str,
    default_ttl: str = "15m",
    max_ttl: str = "1h",
    creation_statements: Iterable[str] = DEFAULT_CREATION_STATEMENTS,
    revocation_statements: Iterable[str] = DEFAULT_REVOCATION_STATEMENTS,
    layout: VaultLayout | None = None,
) -> str:
    """The role that mints credentials for one database source; returns its name."""
    layout = layout or VaultLayout()
    role = layout.database_role(domain, source)
    with vault_errors("writing a database role"):
        admin.write_data(
            f"{layout.database_mount}/roles/{role}",
            data={
                "db_name": connection,
                "creation_statements": list(creation_statements),
                "revocation_statements": list(revocation_statements),
                "default_ttl": default_ttl,
                "max_ttl": max_ttl,
            },
        )
    return role


def configure_jwt_auth(
    admin: Any,
    *,
    mount: str = "jwt",
    validation_pubkeys: Sequence[str] = (),
    jwks_url: str | None = None,
    oidc_discovery_url: str | None = None,
    bound_issuer: str | None = None,
) -> None:
    """JWT auth trusting the cluster's service-account issuer.

    In a cluster, point ``oidc_discovery_url`` (or ``jwks_url``) at the API
    server's issuer, or give its signing keys as ``validation_pubkeys``.
    """
    config: dict[str, Any] = {}
    if validation_pubkeys:
        config["jwt_validation_pubkeys"] = list(validation_pubkeys)
    if jwks_url:
        config["jwks_url"] = jwks_url
    if oidc_discovery_url:
        config["oidc_discovery_url"] = oidc_discovery_url
    if bound_issuer:
        config["bound_issuer"] = bound_issuer
    with vault_errors("configuring JWT auth"):
        if f"{mount}/" not in admin.sys.list_auth_methods()["data"]:
            admin.sys.enable_auth_method("jwt", path=mount)
        admin.write_data(f"auth/{mount}/config", data=config)


def ensure_jwt_role(
    admin: Any,
    name: str,
    *,
    audience: str,
    subject: str,
    policies: Sequence[str],
    mount: str = "jwt",
    ttl: str = "15m",
    max_ttl: str = "1h",
    claim_mappings: Mapping[str, str] | None = None,
) -> None:
    """A role bound to one audience and one service-account subject.

    ``subject`` is ``system:serviceaccount:<namespace>:<name>`` (the SA per
    agent and phase); ``claim_mappings`` copies claims (e.g. the pod name,
    which carries the investigation id) into token metadata for the audit log.
    """
    with vault_errors("writing a JWT role"):
        admin.write_data(
            f"auth/{mount}/role/{name}",
            data={
                "role_type": "jwt",
                "bound_audiences": [audience],
                "bound_subject": subject,
                "user_claim": "sub",
                "claim_mappings": dict(claim_mappings or {}),
                "token_policies": list(policies),
                "token_ttl": ttl,
                "token_max_ttl": max_ttl,
                "token_type": "service",
            },
        )
