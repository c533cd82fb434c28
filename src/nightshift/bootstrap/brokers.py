"""Secret broker and audit signer: Vault/OpenBao when chosen, else local files.
Vault's client is imported only when it is the backend."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from nightshift.observability.audit_anchor import AnchorKey, AnchorSigner
from nightshift.secrets.leases import RetryPolicy
from nightshift.secrets.protocol import LeaseRecorder, SecretBroker
from nightshift.settings import Settings

if TYPE_CHECKING:
    from nightshift.secrets.policies import VaultLayout
    from nightshift.secrets.vault_client import VaultAuth, VaultEndpoint


def make_broker(settings: Settings, recorder: LeaseRecorder) -> SecretBroker:
    """The configured secret broker; Vault's client is imported only when chosen."""
    retry = RetryPolicy(
        attempts=settings.secrets_revoke_attempts, first_delay=settings.secrets_revoke_backoff
    )
    if settings.secrets_backend == "vault":
        from nightshift.secrets.policies import parse_sources
        from nightshift.secrets.vault import VaultBroker

        return VaultBroker(
            vault_endpoint(settings),
            vault_auth(settings),
            layout=vault_layout(settings),
            recorder=recorder,
            dynamic_sources=parse_sources(settings.vault_dynamic_sources),
            handoff_wrap_ttl=settings.secrets_handoff_ttl,
            revoke_retry=retry,
        )
    from nightshift.secrets.local import LocalBroker

    return LocalBroker(
        settings.secrets_path,
        recorder=recorder,
        handoff_ttl=settings.secrets_handoff_ttl,
        revoke_retry=retry,
    )


def vault_auth(settings: Settings) -> VaultAuth:
    from nightshift.secrets.vault_client import VaultAuth

    return VaultAuth(
        method=settings.vault_auth_method,
        token=settings.vault_token.get_secret_value(),
        role=settings.vault_auth_role,
        jwt_path=Path(settings.vault_jwt_path),
        mount=settings.vault_auth_mount or None,
    )


def vault_layout(settings: Settings) -> VaultLayout:
    """Where Nightshift's paths live on the server (also what `vault policies` prints)."""
    from nightshift.secrets.policies import VaultLayout

    return VaultLayout(
        kv_mount=settings.vault_kv_mount,
        prefix=settings.vault_prefix,
        database_mount=settings.vault_database_mount,
        token_role=settings.vault_token_role,
        transit_mount=settings.vault_transit_mount,
        audit_transit_key=settings.audit_transit_key,
    )


def audit_signer(settings: Settings) -> AnchorSigner:
    """The key the audit head is signed with, never one the database holds: the
    transit key when the broker is Vault (the same login as the broker's), else
    the key file beside the data directory."""
    if settings.secrets_backend == "vault":
        from nightshift.secrets.vault_transit import TransitSigner

        layout = vault_layout(settings)
        return TransitSigner(
            vault_endpoint(settings),
            vault_auth(settings),
            key=layout.audit_transit_key,
            mount=layout.transit_mount,
        )
    return AnchorKey(settings.audit_anchor_key_path)


def vault_endpoint(settings: Settings) -> VaultEndpoint:
    from nightshift.secrets.vault_client import VaultEndpoint

    verify: bool | str = settings.vault_cacert or settings.vault_tls_verify
    return VaultEndpoint(
        addr=settings.vault_addr,
        verify=verify,
        namespace=settings.vault_namespace or None,
        timeout=settings.vault_timeout,
    )
