"""The Vault / OpenBao broker: one server-side identity per investigation.

For each investigation the broker mints tokens against the
``nightshift-investigation`` token role, carrying the investigation id,
agent, owner and phase as token metadata (so the server's own audit log
attributes every read) and the phase + domain policies by name (so the
server, not this code, decides what a phase may read). Their TTL and
explicit max TTL end at the deadline, so even a lost control plane cannot
extend them.

Two identities per investigation:

* the *control* token, held in this process's memory only, with which the
  broker itself reads domain secrets in :meth:`VaultBroker.issue` (dynamic
  database credentials are therefore child leases of it);
* the *worker* token, never seen by the broker: it is minted
  response-wrapped and only the single-use wrapping token is handed over
  (:class:`~nightshift.secrets.vault_worker.VaultWorkerSession` unwraps it).

Revocation revokes dynamic leases, then both tokens by accessor; the server
revokes everything the tokens created with them. The management token
(``nightshift-control-plane`` policy) can mint and revoke but read nothing.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from hvac import exceptions as hvac_errors  # type: ignore[import-untyped]

from nightshift.domain.vocabulary import Domain
from nightshift.secrets.leases import (
    Clock,
    LeaseLedger,
    LedgerBroker,
    RetryPolicy,
    bounded_expiry,
    credential_for,
    utc_now,
)
from nightshift.secrets.policies import VaultLayout, policies_for
from nightshift.secrets.protocol import (
    AccessDenied,
    Credential,
    InvestigationContext,
    LeaseKind,
    LeaseNotRenewable,
    LeaseRecord,
    LeaseRecorder,
    LeaseState,
    WorkerHandoff,
)
from nightshift.secrets.vault_client import VaultAuth, VaultEndpoint, vault_errors

TOKEN_LEASE_PREFIX = "token:"  # noqa: S105 -- lease id of an identity = "token:<accessor>" (not a secret)


@dataclass(frozen=True, slots=True)
class _ControlIdentity:
    lease_id: str
    token: str = field(repr=False)


def _str_map(data: Mapping[str, Any]) -> dict[str, str]:
    return {str(k): str(v) for k, v in data.items()}


class VaultBroker(LedgerBroker):
    """Secret broker backed by Vault or OpenBao (see module docstring)."""

    backend = "vault"

    def __init__(
        self,
        endpoint: VaultEndpoint,
        auth: VaultAuth,
        *,
        layout: VaultLayout | None = None,
        recorder: LeaseRecorder | None = None,
        dynamic_sources: Iterable[tuple[Domain, str]] = (),
        handoff_wrap_ttl: float = 300.0,
        revoke_retry: RetryPolicy | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self._endpoint = endpoint
        self._auth = auth
        self.layout = layout or VaultLayout()
        self._ledger = LeaseLedger(recorder, clock)
        self._dynamic = frozenset(dynamic_sources)
        self._wrap_ttl = handoff_wrap_ttl
        self._retry = revoke_retry or RetryPolicy()
        self._lock = threading.Lock()
        self._mgmt: Any = None
        self._mgmt_relogin_at: datetime | None = None
        self._control: dict[str, _ControlIdentity] = {}

    # -- management client -------------------------------------------------

    def _management(self) -> Any:
        """The authenticated management client; logs in lazily (never at construction).

        With JWT/Kubernetes auth the login token expires, so the broker logs in
        again (re-reading the rotated service-account token) at 80 % of its life.
        """
        with self._lock:
            now = self._ledger.now()
            due = self._mgmt_relogin_at is not None and now >= self._mgmt_relogin_at
            if self._mgmt is None or due:
                client, lifetime = self._auth.login(self._endpoint)
                self._mgmt = client
                self._mgmt_relogin_at = (
                    None if lifetime is None else now + timedelta(seconds=lifetime * 0.8)
                )
            return self._mgmt

    def check_available(self) -> None:
        with vault_errors("Vault health check"):
            self._management().auth.token.lookup_self()

    # -- identities ----------------------------------------------------------

    def _mint(
        self, ctx: InvestigationContext, holder: str, ttl: int, wrap_ttl: int | None
    ) -> dict[str, Any]:
        meta = {
            "investigation_id": ctx.investigation_id,
            "agent": ctx.agent,
            "owner": ctx.owner,
            "phase": ctx.phase.value,
            "domains": ",".join(sorted(d.value for d in ctx.domains)),
            "holder": holder,
        }
        with vault_errors("minting the investigation token"):
            response: dict[str, Any] = self._management().auth.token.create(
                role_name=self.layout.token_role,
                policies=policies_for(ctx.phase, ctx.domains),
                meta=meta,
                ttl=f"{ttl}s",
                explicit_max_ttl=f"{ttl}s",
                renewable=True,
                display_name=f"{holder}-{ctx.investigation_id}"[:100],
                wrap_ttl=None if wrap_ttl is None else f"{wrap_ttl}s",
            )
        return response

    def _control_identity(self, ctx: InvestigationContext) -> _ControlIdentity:
        with self._lock:
            known = self._control.get(ctx.investigation_id)
        if known is not None:
            return known
        now = self._ledger.now()
        expires_at = bounded_expiry(ctx, now, None)
        ttl = int((expires_at - now).total_seconds())
        auth = self._mint(ctx, "control", ttl, None)["auth"]
        identity = _ControlIdentity(TOKEN_LEASE_PREFIX + auth["accessor"], auth["client_token"])
        self._record_or_revoke(
            LeaseRecord(
                lease_id=identity.lease_id,
                investigation_id=ctx.investigation_id,
                domain=None,
                kind=LeaseKind.CONTROL,
                issued_at=now,
                expires_at=now + timedelta(seconds=ttl),
            )
        )
        with self._lock:
            self._control[ctx.investigation_id] = identity
        return identity

    def issue_worker_handoff(self, investigation: InvestigationContext) -> WorkerHandoff:
        self._ledger.remember(investigation)
        now = self._ledger.now()
        expires_at = bounded_expiry(investigation, now, None)
        ttl = int((expires_at - now).total_seconds())
        wrap_ttl = max(1, min(int(self._wrap_ttl), ttl))
        wrap = self._mint(investigation, "worker", ttl, wrap_ttl)["wrap_info"]
        lease = self._record_or_revoke(
            LeaseRecord(
                lease_id=TOKEN_LEASE_PREFIX + wrap["wrapped_accessor"],
                investigation_id=investigation.investigation_id,
                domain=None,
                kind=LeaseKind.WORKER,
                issued_at=now,
                expires_at=now + timedelta(seconds=ttl),
            )
        )
        return WorkerHandoff(
            investigation_id=investigation.investigation_id,
            lease_id=lease.lease_id,
            backend=self.backend,
            token=wrap["token"],
            redeem_by=now + timedelta(seconds=wrap_ttl),
            expires_at=lease.expires_at,
        )

    # -- credentials ---------------------------------------------------------

    def issue(
        self,
        investigation: InvestigationContext,
        domain: Domain,
        *,
        source: str = "default",
        ttl: float | None = None,
    ) -> Credential:
        now, expires_at = self._ledger.open_domain_lease(investigation, domain, ttl)
        client = self._endpoint.client(self._control_identity(investigation).token)
        if (domain, source) in self._dynamic:
            return self._issue_dynamic(client, investigation, domain, source, now, expires_at)
        with vault_errors(f"reading {domain.value}/{source}"):
            response = client.secrets.kv.v2.read_secret_version(
                path=self.layout.datasource_path(domain, source),
                mount_point=self.layout.kv_mount,
                raise_on_deleted_version=True,
            )
        lease_id = f"kv/{investigation.investigation_id}/{domain.value}/{uuid.uuid4().hex}"
        return self._ledger.add_domain_credential(
            lease_id,
            investigation,
            domain,
            source,
            (now, expires_at),
            _str_map(response["data"]["data"]),
        )

    def _issue_dynamic(
        self,
        client: Any,
        ctx: InvestigationContext,
        domain: Domain,
        source: str,
        now: datetime,
        expires_at: datetime,
    ) -> Credential:
        role = self.layout.database_role(domain, source)
        with vault_errors(f"minting database credentials for {domain.value}/{source}"):
            response = client.read(f"{self.layout.database_mount}/creds/{role}")
        if response is None:
            raise AccessDenied(f"no database role {role}")
        served = int(response["lease_duration"])
        wanted = max(1, int((expires_at - now).total_seconds()))
        lease = self._record_or_revoke(
            LeaseRecord(
                lease_id=response["lease_id"],
                investigation_id=ctx.investigation_id,
                domain=domain,
                kind=LeaseKind.DATABASE,
                issued_at=now,
                expires_at=now + timedelta(seconds=min(served, wanted)),
                source=source,
            )
        )
        if wanted < served:
            # The role's TTL is longer than asked for: shorten the lease on the
            # server (a renewal sets the TTL to the increment), or give it back.
            try:
                with vault_errors("shortening a database lease"):
                    self._management().sys.renew_lease(lease_id=lease.lease_id, increment=wanted)
            except Exception:
                self._revoke_one(lease)
                self._ledger.update(replace(lease, state=LeaseState.REVOKED, revoked_at=now))
                raise
        return credential_for(lease, _str_map(response["data"]))

    def _record_or_revoke(self, lease: LeaseRecord) -> LeaseRecord:
        """Record a fresh lease; if it cannot be recorded, it must not stay alive."""
        try:
            return self._ledger.add(lease)
        except Exception:
            try:
                self._revoke_one(lease)
            finally:
                self._ledger.update(replace(lease, state=LeaseState.REVOKED))
            raise

    # -- renewal and revocation ----------------------------------------------

    def renew(self, lease_id: str, *, increment: float | None = None) -> LeaseRecord:
        lease, ctx = self._ledger.renewable(lease_id)
        now = self._ledger.now()
        bound = bounded_expiry(ctx, now, increment)
        seconds = max(1, int((bound - now).total_seconds()))
        if lease.kind == LeaseKind.WORKER:
            raise LeaseNotRenewable(
                "the worker renews its own token; it already ends at the deadline"
            )
        if lease.kind == LeaseKind.DATABASE:
            with vault_errors("renewing a database lease"):
                response = self._management().sys.renew_lease(lease_id=lease_id, increment=seconds)
            bound = min(bound, now + timedelta(seconds=int(response["lease_duration"])))
        elif lease.kind == LeaseKind.CONTROL:
            identity = self._control.get(lease.investigation_id)
            if identity is None:
                raise LeaseNotRenewable("control token not held by this process")
            with vault_errors("renewing the control token"):
                response = self._endpoint.client(identity.token).auth.token.renew_self(
                    increment=f"{seconds}s"
                )
            bound = min(bound, now + timedelta(seconds=int(response["auth"]["lease_duration"])))
        return self._ledger.update(replace(lease, expires_at=bound))

    def _revoke_one(self, lease: LeaseRecord) -> None:
        if lease.kind == LeaseKind.DOMAIN:
            return  # a static KV value has no server lease; the control token is revoked next
        try:
            with vault_errors("revocation"):
                mgmt = self._management()
                if lease.kind == LeaseKind.DATABASE:
                    mgmt.sys.revoke_lease(lease_id=lease.lease_id)
                else:
                    accessor = lease.lease_id.removeprefix(TOKEN_LEASE_PREFIX)
                    try:
                        mgmt.auth.token.revoke_accessor(accessor)
                    except hvac_errors.InvalidRequest as exc:
                        # Already expired or revoked: exactly the state we want.
                        if "invalid accessor" not in str(exc):
                            raise
        finally:
            if lease.kind == LeaseKind.CONTROL:
                with self._lock:
                    self._control.pop(lease.investigation_id, None)
