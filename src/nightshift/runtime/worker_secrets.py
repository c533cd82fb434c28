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
from nightshift.runtime import worker_post
from nightshift.worker_settings import WorkerSettings

log = logging.getLogger("nightshift.worker")


@dataclass(frozen=True, slots=True)
class DomainCredentials:
    by_domain: Mapping[Domain, Mapping[str, str]] = field(default_factory=dict, repr=False)
    extra_secrets: tuple[str, ...] = field(default=(), repr=False)
    # Named sources beyond each domain's default, e.g. (application, "llm").
    by_source: Mapping[tuple[Domain, str], Mapping[str, str]] = field(
        default_factory=dict, repr=False
    )

    def by_key(self) -> dict[tuple[Domain, str], Mapping[str, str]]:
        """Every credential keyed (domain, broker source); a domain's default is "default"."""
        keyed: dict[tuple[Domain, str], Mapping[str, str]] = {
            (d, "default"): v for d, v in self.by_domain.items()
        }
        keyed.update(self.by_source)
        return keyed

    def secret_values(self) -> list[str]:
        values = [v for creds in self.by_domain.values() for v in creds.values()]
        values += [v for creds in self.by_source.values() for v in creds.values()]
        return values + list(self.extra_secrets)


Source = tuple[Domain, str]


async def obtain(
    config: WorkerSettings,
    client: httpx.AsyncClient,
    inv_id: str,
    domains: Sequence[Domain],
    sources: Sequence[Source] = (),
) -> DomainCredentials:
    """Each granted domain's default credential, plus the named ``sources``."""
    if not config.secrets_handoff:
        return DomainCredentials()
    if config.secrets_backend == "vault":
        return await asyncio.to_thread(_from_vault, config, domains, sources)
    return await _from_control_plane(config, client, inv_id, domains, sources)


async def _from_control_plane(
    config: WorkerSettings,
    client: httpx.AsyncClient,
    inv_id: str,
    domains: Sequence[Domain],
    sources: Sequence[Source],
) -> DomainCredentials:
    base = f"/v1/investigations/{inv_id}/worker/credentials"
    handoff = config.secrets_handoff
    resp = await client.post(f"{base}/redeem", json={"code": handoff})
    resp.raise_for_status()
    grant = str(resp.json()["grant"])

    # Every read in one request: one after another they were a round trip each
    # before the worker's first event, and each a request's cost to the plane.
    # On a busy store recording the leases can meet a 503 (nothing changed); it
    # is sent again like any worker POST.
    wanted: list[Source] = [(d, "default") for d in domains] + list(sources)
    if not wanted:
        return DomainCredentials(extra_secrets=(grant, handoff))
    reads = [{"domain": d.value, "source": s} for d, s in wanted]
    got_resp = await worker_post.post(client, f"{base}/read", {"grant": grant, "reads": reads})
    got_resp.raise_for_status()
    got: dict[Source, Mapping[str, str] | None] = {
        (Domain(c["domain"]), str(c["source"])): c["values"] for c in got_resp.json()["credentials"]
    }
    # nothing stored for a source (null): the toolset runs without it
    found = {d: dict(v) for d in domains if (v := got.get((d, "default"))) is not None}
    named = {s: dict(v) for s in sources if (v := got.get(s)) is not None}
    return DomainCredentials(found, extra_secrets=(grant, handoff), by_source=named)


def _from_vault(
    config: WorkerSettings, domains: Sequence[Domain], sources: Sequence[Source]
) -> DomainCredentials:
    from nightshift.secrets.policies import VaultLayout, parse_sources
    from nightshift.secrets.protocol import AccessDenied, SecretNotFound
    from nightshift.secrets.vault_client import VaultEndpoint
    from nightshift.secrets.vault_worker import VaultWorkerSession

    endpoint = VaultEndpoint(
        addr=config.vault_addr,
        verify=config.vault_cacert or True,
        namespace=config.vault_namespace or None,
    )
    # The same layout the control plane wrote its policies for: a non-default mount or
    # prefix must reach the worker, or it reads paths its token was never granted.
    layout = VaultLayout(
        kv_mount=config.vault_kv_mount,
        prefix=config.vault_prefix,
        database_mount=config.vault_database_mount,
    )
    handoff = config.secrets_handoff
    session = VaultWorkerSession.from_handoff(endpoint, handoff, layout=layout)
    dynamic = set(parse_sources(config.vault_dynamic_sources))
    extra: list[str] = [session.token, handoff]

    def read(domain: Domain, source: str) -> Mapping[str, str] | None:
        try:
            if (domain, source) in dynamic:  # minted for this investigation, revoked with it
                minted = session.database_credentials(domain, source)
                extra.append(minted.lease_id)
                return minted.secret
            return session.read_datasource(domain, source)
        except SecretNotFound:
            return None
        except AccessDenied:
            log.warning("vault denied the %s/%s credential to this phase", domain.value, source)
            return None

    found = {d: v for d in domains if (v := read(d, "default")) is not None}
    named = {s: v for s in sources if (v := read(*s)) is not None}
    return DomainCredentials(found, tuple(extra), by_source=named)
