"""In-memory broker and recorder for other packages' unit tests.

Same rules as the real brokers (scopes, deadline bounds, revocation retries
with ``revoke_pending``) because it uses the same :class:`LeaseLedger`; the
knobs let a test make the backend unreachable or make revocation fail.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Mapping

from nightshift.domain.vocabulary import Domain
from nightshift.secrets.leases import (
    Clock,
    LeaseLedger,
    LedgerBroker,
    RetryPolicy,
    utc_now,
)
from nightshift.secrets.protocol import (
    BrokerUnavailable,
    Credential,
    HandoffRefused,
    InvestigationContext,
    LeaseRecord,
    LeaseRecorder,
    LeaseState,
    SecretNotFound,
    WorkerHandoff,
)


class InMemoryLeaseRecorder:
    """Keeps every record it is given, in order (the latest per lease in ``current``)."""

    def __init__(self) -> None:
        self.history: list[LeaseRecord] = []
        self._lock = threading.Lock()

    def record(self, lease: LeaseRecord) -> None:
        with self._lock:
            self.history.append(lease)

    @property
    def current(self) -> dict[str, LeaseRecord]:
        with self._lock:
            return {r.lease_id: r for r in self.history}


class FakeSecretBroker(LedgerBroker):
    """A SecretBroker over a dict of ``{(domain, source): {key: value}}``."""

    backend = "fake"

    def __init__(
        self,
        secrets_by_source: Mapping[tuple[Domain, str], Mapping[str, str]] | None = None,
        *,
        recorder: LeaseRecorder | None = None,
        clock: Clock = utc_now,
        revoke_retry: RetryPolicy | None = None,
    ) -> None:
        self.secrets = {k: dict(v) for k, v in (secrets_by_source or {}).items()}
        self.available = True
        self.revocation_failures = 0  # the next N backend revocations fail
        self._ledger = LeaseLedger(recorder, clock)
        self._retry = revoke_retry or RetryPolicy(attempts=1, sleep=lambda _: None)
        self._handoffs: dict[str, str] = {}  # hand-off token -> lease id
        self._counter = 0
        self._lock = threading.Lock()

    def _next_id(self, kind: str) -> str:
        with self._lock:
            self._counter += 1
            return f"fake/{kind}/{self._counter}"

    def check_available(self) -> None:
        if not self.available:
            raise BrokerUnavailable("fake backend marked unavailable")

    def issue(
        self,
        investigation: InvestigationContext,
        domain: Domain,
        *,
        source: str = "default",
        ttl: float | None = None,
    ) -> Credential:
        self.check_available()
        window = self._ledger.open_domain_lease(investigation, domain, ttl)
        values = self.secrets.get((domain, source))
        if values is None:
            raise SecretNotFound(f"no fake secret for {domain.value}/{source}")
        return self._ledger.add_domain_credential(
            self._next_id(domain.value), investigation, domain, source, window, values
        )

    def issue_worker_handoff(self, investigation: InvestigationContext) -> WorkerHandoff:
        self.check_available()
        lease = self._ledger.add_worker_lease(self._next_id("worker"), investigation)
        token = "fake_" + secrets.token_urlsafe(16)
        with self._lock:
            self._handoffs[token] = lease.lease_id
        return WorkerHandoff(
            investigation_id=investigation.investigation_id,
            lease_id=lease.lease_id,
            backend=self.backend,
            token=token,
            redeem_by=lease.expires_at,
            expires_at=lease.expires_at,
        )

    def redeem_handoff(self, token: str) -> LeaseRecord:
        """Single use, like the real ones; returns the worker lease."""
        with self._lock:
            lease_id = self._handoffs.pop(token, None)
        if lease_id is None:
            raise HandoffRefused("fake hand-off unknown or already redeemed")
        lease = self._ledger.get(lease_id)
        if lease.state != LeaseState.ACTIVE:
            raise HandoffRefused("fake hand-off revoked")
        return lease

    def renew(self, lease_id: str, *, increment: float | None = None) -> LeaseRecord:
        self.check_available()
        return self._ledger.extend(lease_id, increment)

    def _revoke_one(self, lease: LeaseRecord) -> None:
        self.check_available()
        with self._lock:
            if self.revocation_failures > 0:
                self.revocation_failures -= 1
                raise BrokerUnavailable("fake revocation failure")
            for token in [t for t, v in self._handoffs.items() if v == lease.lease_id]:
                del self._handoffs[token]
