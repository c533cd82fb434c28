"""The worker's side of the Vault broker: redeem the hand-off, read its own secrets.

The worker asks for the same paths whatever its phase; the server answers
from the policies its token carries. A refusal is :class:`AccessDenied`, an
unreachable server :class:`BrokerUnavailable`: the agent loop turns either
into a tool error, never into a retry with broader credentials.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from hvac import exceptions as hvac_errors  # type: ignore[import-untyped]

from nightshift.domain.vocabulary import Domain
from nightshift.secrets.policies import VaultLayout
from nightshift.secrets.protocol import Credential, HandoffRefused, LeaseKind, SecretNotFound
from nightshift.secrets.vault_client import VaultEndpoint, jwt_login, vault_errors


class VaultWorkerSession:
    """A worker's authenticated session with its own per-investigation token."""

    def __init__(
        self,
        endpoint: VaultEndpoint,
        token: str,
        metadata: Mapping[str, str],
        *,
        layout: VaultLayout | None = None,
    ) -> None:
        self._endpoint = endpoint
        self._client: Any = endpoint.client(token)
        self.metadata = dict(metadata)
        self.layout = layout or VaultLayout()

    def __repr__(self) -> str:
        return f"VaultWorkerSession(investigation_id={self.investigation_id!r})"

    @property
    def investigation_id(self) -> str:
        return self.metadata.get("investigation_id", "")

    @property
    def token(self) -> str:
        """The worker token itself (hand it to a Redactor; never log it)."""
        token: str = self._client.token
        return token

    @classmethod
    def from_handoff(
        cls, endpoint: VaultEndpoint, wrapping_token: str, *, layout: VaultLayout | None = None
    ) -> VaultWorkerSession:
        """Unwrap the single-use hand-off; a second unwrap is refused by the server."""
        client = endpoint.client(wrapping_token)
        with vault_errors("unwrapping the hand-off"):
            try:
                response = client.sys.unwrap()
            except (hvac_errors.InvalidRequest, hvac_errors.Forbidden) as exc:
                raise HandoffRefused(
                    "hand-off already unwrapped, expired or forged; report it"
                ) from exc
        auth = response["auth"]
        return cls(endpoint, auth["client_token"], auth.get("metadata") or {}, layout=layout)

    @classmethod
    def from_jwt(
        cls,
        endpoint: VaultEndpoint,
        *,
        role: str,
        jwt: str,
        mount: str = "jwt",
        layout: VaultLayout | None = None,
    ) -> VaultWorkerSession:
        """Log in with a (projected service-account) JWT against an audience-bound role."""
        response = jwt_login(endpoint.client(), role=role, jwt=jwt, mount=mount)
        auth = response["auth"]
        return cls(endpoint, auth["client_token"], auth.get("metadata") or {}, layout=layout)

    def lookup_self(self) -> dict[str, Any]:
        with vault_errors("token lookup"):
            data: dict[str, Any] = self._client.auth.token.lookup_self()["data"]
        return data

    def read_datasource(self, domain: Domain, source: str = "default") -> dict[str, str]:
        return self._read_kv(self.layout.datasource_path(domain, source))

    def read_remediation(self, name: str) -> dict[str, str]:
        return self._read_kv(self.layout.remediation_path(name))

    def _read_kv(self, path: str) -> dict[str, str]:
        with vault_errors(f"reading {path}"):
            response = self._client.secrets.kv.v2.read_secret_version(
                path=path, mount_point=self.layout.kv_mount, raise_on_deleted_version=True
            )
        return {str(k): str(v) for k, v in response["data"]["data"].items()}

    def database_credentials(self, domain: Domain, source: str) -> Credential:
        """Dynamic DB credentials; a child lease of this token, revoked with it."""
        role = self.layout.database_role(domain, source)
        now = datetime.now(UTC)
        with vault_errors(f"minting database credentials for {domain.value}/{source}"):
            response = self._client.read(f"{self.layout.database_mount}/creds/{role}")
        if response is None:
            raise SecretNotFound(f"no database role {role}")
        return Credential(
            lease_id=response["lease_id"],
            investigation_id=self.investigation_id,
            domain=domain,
            source=source,
            kind=LeaseKind.DATABASE,
            issued_at=now,
            expires_at=now + timedelta(seconds=int(response["lease_duration"])),
            secret={str(k): str(v) for k, v in response["data"].items()},
        )

    def renew(self, increment: float | None = None) -> None:
        """Extend the worker token; the server caps it at the investigation deadline."""
        with vault_errors("renewing the worker token"):
            self._client.auth.token.renew_self(
                increment=None if increment is None else f"{int(increment)}s"
            )
