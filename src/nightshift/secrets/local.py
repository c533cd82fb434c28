"""The embedded secret broker: Vault's semantics without a Vault.

Per-investigation leases bounded by the deadline, per-domain scopes, a
single-use hand-off code the worker redeems for its own scoped grant, and
revocation. Secret values live encrypted in the data dir
(:mod:`nightshift.secrets.local_store`); hand-off codes and grant tokens are
kept only as SHA-256 digests in memory, so a control-plane restart
invalidates every outstanding grant (fail closed) rather than reviving it.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from nightshift.domain.vocabulary import Domain
from nightshift.secrets.leases import (
    Clock,
    LeaseLedger,
    LedgerBroker,
    RetryPolicy,
    utc_now,
)
from nightshift.secrets.local_store import LocalSecretStore
from nightshift.secrets.protocol import (
    Credential,
    DeadlineExceeded,
    HandoffRefused,
    InvestigationContext,
    LeaseKind,
    LeaseRecord,
    LeaseRecorder,
    LeaseState,
    WorkerHandoff,
)

HANDOFF_PREFIX = "nshc_"  # recognisable shapes, so the Redactor can catch them
GRANT_PREFIX = "nshg_"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class LocalGrant:
    """What a redeemed hand-off gives the worker: a bearer grant for its own domains."""

    investigation_id: str
    lease_id: str
    domains: frozenset[Domain]
    expires_at: datetime
    token: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class _Pending:
    investigation_id: str
    lease_id: str
    redeem_by: datetime


class LocalBroker(LedgerBroker):
    """Embedded default broker (see module docstring)."""

    backend = "local"

    def __init__(
        self,
        data_dir: Path,
        *,
        recorder: LeaseRecorder | None = None,
        clock: Clock = utc_now,
        handoff_ttl: float = 300.0,
        revoke_retry: RetryPolicy | None = None,
    ) -> None:
        self.store = LocalSecretStore(data_dir)
        self._ledger = LeaseLedger(recorder, clock)
        self._handoff_ttl = handoff_ttl
        self._retry = revoke_retry or RetryPolicy(attempts=1)
        self._lock = threading.Lock()
        self._pending: dict[str, _Pending] = {}  # digest(code) -> hand-off
        self._grants: dict[str, str] = {}  # digest(grant token) -> worker lease id

    def check_available(self) -> None:
        self.store.check()

    def issue(
        self,
        investigation: InvestigationContext,
        domain: Domain,
        *,
        source: str = "default",
        ttl: float | None = None,
    ) -> Credential:
        window = self._ledger.open_domain_lease(investigation, domain, ttl)
        values = self.store.get(domain, source)
        lease_id = f"local/{domain.value}/{uuid.uuid4().hex}"
        return self._ledger.add_domain_credential(
            lease_id, investigation, domain, source, window, values
        )

    def issue_worker_handoff(self, investigation: InvestigationContext) -> WorkerHandoff:
        lease = self._ledger.add_worker_lease(f"local/worker/{uuid.uuid4().hex}", investigation)
        code = HANDOFF_PREFIX + secrets.token_urlsafe(32)
        redeem_by = min(lease.issued_at + timedelta(seconds=self._handoff_ttl), lease.expires_at)
        with self._lock:
            self._pending[_digest(code)] = _Pending(
                investigation.investigation_id, lease.lease_id, redeem_by
            )
        return WorkerHandoff(
            investigation_id=investigation.investigation_id,
            lease_id=lease.lease_id,
            backend=self.backend,
            token=code,
            redeem_by=redeem_by,
            expires_at=lease.expires_at,
        )

    def redeem_handoff(self, code: str, investigation_id: str) -> LocalGrant:
        """Exchange a hand-off code for the worker's grant; works exactly once,
        and only for the investigation it was issued to. Another investigation's
        attempt is refused before the code is spent, so it cannot burn it."""
        with self._lock:
            pending = self._pending.get(_digest(code))
            if pending is not None and pending.investigation_id != investigation_id:
                raise HandoffRefused("this hand-off belongs to another investigation")
            pending = self._pending.pop(_digest(code), None)
        if pending is None:
            raise HandoffRefused("hand-off code unknown or already redeemed")
        lease = self._ledger.get(pending.lease_id)
        ctx = self._ledger.context(pending.investigation_id)
        now = self._ledger.now()
        if lease.state != LeaseState.ACTIVE or ctx is None:
            raise HandoffRefused("the investigation's leases were revoked")
        if now >= pending.redeem_by:
            raise HandoffRefused("hand-off code expired")
        token = GRANT_PREFIX + secrets.token_urlsafe(32)
        with self._lock:
            self._grants[_digest(token)] = lease.lease_id
        return LocalGrant(
            investigation_id=lease.investigation_id,
            lease_id=lease.lease_id,
            domains=ctx.domains,
            expires_at=lease.expires_at,
            token=token,
        )

    def read_with_grant(
        self, grant_token: str, domain: Domain, *, source: str = "default"
    ) -> Credential:
        """The worker's read: checked against its grant's scope, expiry and revocation."""
        with self._lock:
            lease_id = self._grants.get(_digest(grant_token))
        if lease_id is None:
            raise HandoffRefused("unknown grant")
        lease = self._ledger.get(lease_id)
        ctx = self._ledger.context(lease.investigation_id)
        if lease.state != LeaseState.ACTIVE or ctx is None:
            raise HandoffRefused("grant revoked")
        if self._ledger.now() >= lease.expires_at:
            raise DeadlineExceeded("grant expired")
        return self.issue(ctx, domain, source=source)

    def renew(self, lease_id: str, *, increment: float | None = None) -> LeaseRecord:
        return self._ledger.extend(lease_id, increment)

    def _revoke_one(self, lease: LeaseRecord) -> None:
        if lease.kind != LeaseKind.WORKER:
            return  # static values cannot be recalled; the grant that reads them can
        with self._lock:
            for digest in [d for d, v in self._pending.items() if v.lease_id == lease.lease_id]:
                del self._pending[digest]
            for digest in [d for d, v in self._grants.items() if v == lease.lease_id]:
                del self._grants[digest]
