"""Lease bookkeeping shared by every broker: TTL bounds, recording, revocation retries.

Each broker keeps its backend-specific work (creating tokens, reading KV,
revoking a Vault lease) and delegates the rules that must not differ between
backends to the :class:`LeaseLedger`: a TTL never runs past the deadline,
every state change reaches the recorder, and revocation retries with backoff
and leaves ``revoke_pending`` behind when the backend still refuses.
"""

from __future__ import annotations

import logging
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from nightshift.domain.vocabulary import Domain
from nightshift.secrets.protocol import (
    Credential,
    DeadlineExceeded,
    InvestigationContext,
    InvestigationEnded,
    LeaseKind,
    LeaseNotFound,
    LeaseNotRenewable,
    LeaseRecord,
    LeaseRecorder,
    LeaseState,
    OutOfScopeDomain,
    RevocationIncomplete,
)

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard one ``revoke_all`` call tries before leaving leases ``revoke_pending``."""

    attempts: int = 5
    first_delay: float = 0.2
    max_delay: float = 5.0
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)

    def delays(self) -> list[float]:
        """Pauses between attempts (one fewer than attempts)."""
        out, delay = [], self.first_delay
        for _ in range(max(self.attempts - 1, 0)):
            out.append(delay)
            delay = min(delay * 2, self.max_delay)
        return out


class NullRecorder:
    """Records nothing; for brokers used without a lease table."""

    def record(self, lease: LeaseRecord) -> None:
        return None


def bounded_expiry(
    ctx: InvestigationContext, now: datetime, ttl: float | None, *, minimum: float = 1.0
) -> datetime:
    """``now + ttl`` capped at the deadline; DeadlineExceeded when less than ``minimum`` is left."""
    remaining = (ctx.deadline - now).total_seconds()
    if remaining < minimum:
        raise DeadlineExceeded(f"investigation {ctx.investigation_id} is past its deadline")
    if ttl is not None and ttl <= 0:
        raise ValueError("ttl must be positive")
    seconds = remaining if ttl is None else min(ttl, remaining)
    return now + timedelta(seconds=seconds)


def credential_for(lease: LeaseRecord, secret: Mapping[str, str]) -> Credential:
    """The credential a domain lease carries (the secret stays in memory only)."""
    assert lease.domain is not None  # identity leases carry no domain credential
    return Credential(
        lease_id=lease.lease_id,
        investigation_id=lease.investigation_id,
        domain=lease.domain,
        source=lease.source or "default",
        kind=lease.kind,
        issued_at=lease.issued_at,
        expires_at=lease.expires_at,
        secret=secret,
    )


# Identity tokens are revoked last: revoking them first would make the
# backend revoke their child leases behind our back, and we could no longer
# tell "revoked" from "lost".
_REVOKE_ORDER = {
    LeaseKind.DATABASE: 0,
    LeaseKind.DOMAIN: 1,
    LeaseKind.CONTROL: 2,
    LeaseKind.WORKER: 3,
}


class LeaseLedger:
    """In-memory lease index per investigation, mirrored to a recorder."""

    def __init__(self, recorder: LeaseRecorder | None = None, clock: Clock = utc_now) -> None:
        self._recorder: LeaseRecorder = recorder or NullRecorder()
        self._clock = clock
        self._lock = threading.RLock()
        self._leases: dict[str, LeaseRecord] = {}
        self._contexts: dict[str, InvestigationContext] = {}
        self._ended: set[str] = set()

    def now(self) -> datetime:
        return self._clock()

    def remember(self, ctx: InvestigationContext) -> None:
        """Note the investigation before issuing; refused once its leases were revoked."""
        with self._lock:
            if ctx.investigation_id in self._ended:
                raise InvestigationEnded(f"investigation {ctx.investigation_id} has ended")
            self._contexts[ctx.investigation_id] = ctx

    def ended(self, investigation_id: str) -> bool:
        with self._lock:
            return investigation_id in self._ended

    def context(self, investigation_id: str) -> InvestigationContext | None:
        with self._lock:
            return self._contexts.get(investigation_id)

    def open_domain_lease(
        self, investigation: InvestigationContext, domain: Domain, ttl: float | None
    ) -> tuple[datetime, datetime]:
        """The rules every broker applies before it reads a domain credential:
        the domain must be granted, and the lease ends by the deadline.
        Returns ``(now, expires_at)``."""
        if domain not in investigation.domains:
            raise OutOfScopeDomain(investigation.investigation_id, domain, investigation.domains)
        self.remember(investigation)
        now = self.now()
        return now, bounded_expiry(investigation, now, ttl)

    def add_worker_lease(self, lease_id: str, investigation: InvestigationContext) -> LeaseRecord:
        """Record the worker's own identity, which ends at the deadline (brokers whose
        backend mints the identity first record it themselves, from the backend's TTL)."""
        self.remember(investigation)
        now = self.now()
        return self.add(
            LeaseRecord(
                lease_id=lease_id,
                investigation_id=investigation.investigation_id,
                domain=None,
                kind=LeaseKind.WORKER,
                issued_at=now,
                expires_at=bounded_expiry(investigation, now, None),
            )
        )

    def add_domain_credential(
        self,
        lease_id: str,
        investigation: InvestigationContext,
        domain: Domain,
        source: str,
        window: tuple[datetime, datetime],
        secret: Mapping[str, str],
    ) -> Credential:
        """Record a static domain lease and hand back its credential."""
        now, expires_at = window
        lease = self.add(
            LeaseRecord(
                lease_id=lease_id,
                investigation_id=investigation.investigation_id,
                domain=domain,
                kind=LeaseKind.DOMAIN,
                issued_at=now,
                expires_at=expires_at,
                source=source,
            )
        )
        return credential_for(lease, secret)

    def add(self, lease: LeaseRecord) -> LeaseRecord:
        """Index and record a new lease; a recorder failure propagates (the caller fails closed)."""
        with self._lock:
            self._leases[lease.lease_id] = lease
        self._recorder.record(lease)
        return lease

    def update(self, lease: LeaseRecord) -> LeaseRecord:
        with self._lock:
            self._leases[lease.lease_id] = lease
        try:
            self._recorder.record(lease)
        except Exception:
            # The backend state already changed; losing the bookkeeping row must
            # not undo or abort a revocation. The next revoke_all re-records it.
            log.exception("lease recorder failed for lease of %s", lease.investigation_id)
        return lease

    def get(self, lease_id: str) -> LeaseRecord:
        with self._lock:
            lease = self._leases.get(lease_id)
        if lease is None:
            raise LeaseNotFound(f"unknown lease {lease_id}")
        return lease

    def renewable(self, lease_id: str) -> tuple[LeaseRecord, InvestigationContext]:
        """The lease and its investigation while it may still be renewed (active, not ended)."""
        lease = self.get(lease_id)
        ctx = self.context(lease.investigation_id)
        if lease.state != LeaseState.ACTIVE or ctx is None:
            raise LeaseNotRenewable(f"lease {lease_id} is {lease.state.value}")
        return lease, ctx

    def extend(self, lease_id: str, increment: float | None) -> LeaseRecord:
        """Renew a lease the backend keeps nothing for: by ``increment`` seconds (default:
        to the deadline), never past the deadline and never shorter than it was."""
        lease, ctx = self.renewable(lease_id)
        expires_at = bounded_expiry(ctx, self.now(), increment)
        return self.update(replace(lease, expires_at=max(expires_at, lease.expires_at)))

    def for_investigation(self, investigation_id: str) -> list[LeaseRecord]:
        with self._lock:
            return [v for v in self._leases.values() if v.investigation_id == investigation_id]

    def revoke_all(
        self,
        investigation_id: str,
        revoke_one: Callable[[LeaseRecord], None],
        retry: RetryPolicy,
        known_leases: Iterable[LeaseRecord] = (),
    ) -> Sequence[LeaseRecord]:
        """Revoke every non-revoked lease of the investigation with ``revoke_one``.

        Raises RevocationIncomplete (after recording ``revoke_pending``) when
        some leases still fail after the retry policy is exhausted.
        """
        with self._lock:
            self._ended.add(investigation_id)
            for known in known_leases:
                if known.investigation_id == investigation_id:
                    self._leases.setdefault(known.lease_id, known)
        todo = sorted(
            (v for v in self.for_investigation(investigation_id) if v.state != LeaseState.REVOKED),
            key=lambda v: _REVOKE_ORDER[v.kind],
        )
        delays = retry.delays()
        # Hand-rolled, not tenacity: each attempt's state change is recorded (issue 18).
        for attempt in range(retry.attempts):
            failed: list[LeaseRecord] = []
            for lease in todo:
                try:
                    revoke_one(lease)
                except Exception as exc:
                    log.warning(
                        "revocation of a %s lease of %s failed (attempt %d): %s",
                        lease.kind.value,
                        investigation_id,
                        attempt + 1,
                        type(exc).__name__,
                    )
                    failed.append(
                        self.update(
                            replace(
                                lease,
                                state=LeaseState.REVOKE_PENDING,
                                last_error=type(exc).__name__,
                            )
                        )
                    )
                else:
                    self.update(
                        replace(
                            lease, state=LeaseState.REVOKED, revoked_at=self.now(), last_error=None
                        )
                    )
            todo = failed
            if not todo:
                break
            if attempt < len(delays):
                retry.sleep(delays[attempt])
        if todo:
            raise RevocationIncomplete(investigation_id, [v.lease_id for v in todo])
        return self.for_investigation(investigation_id)


class LedgerBroker(ABC):
    """The broker methods a :class:`LeaseLedger` answers alone. A broker keeps its
    ledger and retry policy and says how one lease is revoked on its backend; the
    order, retries and ``revoke_pending`` bookkeeping are the ledger's, the same
    for every backend."""

    _ledger: LeaseLedger
    _retry: RetryPolicy

    @abstractmethod
    def _revoke_one(self, lease: LeaseRecord) -> None:
        """Revoke ``lease`` on the backend; raise to have it retried."""

    def revoke_all(
        self, investigation_id: str, *, known_leases: Iterable[LeaseRecord] = ()
    ) -> Sequence[LeaseRecord]:
        return self._ledger.revoke_all(
            investigation_id, self._revoke_one, self._retry, known_leases
        )

    def leases(self, investigation_id: str) -> Sequence[LeaseRecord]:
        return self._ledger.for_investigation(investigation_id)
