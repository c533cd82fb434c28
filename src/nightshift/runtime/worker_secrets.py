"""The worker's side of the secret broker: redeem the single-use hand-off and
read this investigation's domain credentials, nothing more.

Local broker: the hand-off code is redeemed through the control plane, which
holds the broker. Vault: the wrapping token is unwrapped against Vault itself,
and the worker reads with its own per-investigation token, so Vault's audit
log attributes every read to this investigation.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import httpx

from nightshift.domain.vocabulary import Domain

log = logging.getLogger("nightshift.worker")


@dataclass(frozen=True, slots=True)
class WorkerSecretsConfig:
    backend: str
    handoff: str = field(repr=False)
    vault_addr: str = ""
    vault_cacert: str = ""
    vault_namespace: str = ""


@dataclass(frozen=True, slots=True)
class DomainCredentials:
    by_domain: Mapping[Domain, Mapping[str, str]] = field(default_factory=dict, repr=False)
    extra_secrets: tuple[str, ...] = field(default=(), repr=False)

    def secret_values(self) -> list[str]:
        values = [v for creds in self.by_domain.values() for v in creds.values()]
        return values + list(self.extra_secrets)


async def obtain(
    config: WorkerSecretsConfig, client: httpx.AsyncClient, inv_id: str, domains: Sequence[Domain]
) -> DomainCredentials:
    if not config.handoff:
        return DomainCredentials()
    if config.backend == "vault":
        return await asyncio.to_thread(_from_vault, config, domains)
    return await _from_control_plane(config, client, inv_id, domains)


async def _from_control_plane(
    config: WorkerSecretsConfig, client: httpx.AsyncClient, inv_id: str, domains: Sequence[Domain]
) -> DomainCredentials:
    base = f"/v1/investigations/{inv_id}/worker/credentials"
    resp = await client.post(f"{base}/redeem", json={"code": config.handoff})
    resp.raise_for_status()
    grant = str(resp.json()["grant"])
    found: dict[Domain, Mapping[str, str]] = {}
    for domain in domains:
        resp = await client.post(f"{base}/read", json={"grant": grant, "domain": domain.value})
        if resp.status_code == 404:
            continue  # nothing stored for this domain: the toolset runs without
        resp.raise_for_status()
        found[domain] = dict(resp.json()["values"])
    return DomainCredentials(found, extra_secrets=(grant, config.handoff))


def _from_vault(config: WorkerSecretsConfig, domains: Sequence[Domain]) -> DomainCredentials:
    from nightshift.secrets.protocol import AccessDenied, SecretNotFound
    from nightshift.secrets.vault_client import VaultEndpoint
    from nightshift.secrets.vault_worker import VaultWorkerSession

    endpoint = VaultEndpoint(
        addr=config.vault_addr,
        verify=config.vault_cacert or True,
        namespace=config.vault_namespace or None,
    )
    session = VaultWorkerSession.from_handoff(endpoint, config.handoff)
    found: dict[Domain, Mapping[str, str]] = {}
    for domain in domains:
        try:
            found[domain] = session.read_datasource(domain)
        except SecretNotFound:
            continue
        except AccessDenied:
            log.warning("vault denied the %s datasource credential to this phase", domain.value)
    return DomainCredentials(found, extra_secrets=(session.token, config.handoff))
