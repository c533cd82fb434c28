"""Per-investigation credentials: hand-off at dispatch, local redemption for
workers, revocation at the end (retried until done), leases in the table.

Secret values pass through here only on the local broker's worker read path,
straight from the broker to the HTTP response; they are never stored,
logged or put in events.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import select

from nightshift.domain.access import Caller
from nightshift.domain.vocabulary import Domain, TrustPhase
from nightshift.secrets.protocol import (
    BrokerUnavailable,
    DeadlineExceeded,
    HandoffRefused,
    InvestigationContext,
    InvestigationEnded,
    LeaseKind,
    LeaseRecord,
    LeaseState,
    OutOfScopeDomain,
    RelaysWorkerReads,
    RevocationIncomplete,
    SecretBroker,
    SecretBrokerError,
    SecretNotFound,
    WorkerHandoff,
)
from nightshift.services.errors import Forbidden, NotFound, Unavailable
from nightshift.store.database import Database
from nightshift.store.tables import CredentialLeaseRow, as_utc

log = logging.getLogger(__name__)


class DbLeaseRecorder:
    """Backs the brokers' LeaseRecorder with the ``credential_leases`` table."""

    def __init__(self, db: Database, backend: str) -> None:
        self._db = db
        self._backend = backend

    def record(self, lease: LeaseRecord) -> None:
        with self._db.transaction() as s:
            row = s.get(CredentialLeaseRow, lease.lease_id)
            if row is None:
                row = CredentialLeaseRow(id=lease.lease_id, backend=self._backend)
                s.add(row)
            row.investigation_id = lease.investigation_id
            row.domain = lease.domain.value if lease.domain else None
            row.kind = lease.kind.value
            row.source = lease.source
            row.state = lease.state.value
            row.issued_at = lease.issued_at
            row.expires_at = lease.expires_at
            row.revoked_at = lease.revoked_at
            row.last_error = lease.last_error


def _record(row: CredentialLeaseRow) -> LeaseRecord:
    return LeaseRecord(
        lease_id=row.id,
        investigation_id=row.investigation_id,
        domain=Domain(row.domain) if row.domain else None,
        kind=LeaseKind(row.kind),
        issued_at=as_utc(row.issued_at),
        expires_at=as_utc(row.expires_at),
        state=LeaseState(row.state),
        revoked_at=as_utc(row.revoked_at) if row.revoked_at else None,
        source=row.source,
        last_error=row.last_error,
    )


class CredentialService:
    def __init__(self, db: Database, broker: SecretBroker, backend: str) -> None:
        self._db = db
        self.broker = broker
        self.backend = backend

    def handoff(
        self,
        investigation_id: str,
        *,
        agent: str,
        owner: str,
        phase: str,
        domains: Sequence[str],
        deadline: datetime,
    ) -> WorkerHandoff:
        """The worker's single-use ticket; raises BrokerUnavailable to fail closed."""
        ctx = InvestigationContext(
            investigation_id=investigation_id,
            agent=agent,
            owner=owner,
            phase=TrustPhase(phase),
            domains=frozenset(Domain(d) for d in domains),
            deadline=deadline,
        )
        return self.broker.issue_worker_handoff(ctx)

    def investigation_ended(self, investigation_id: str, status: str, reason: str) -> None:
        self.revoke(investigation_id)

    def revoke(self, investigation_id: str) -> bool:
        """Revoke every lease of an investigation; False if some remain pending."""
        known = self.leases(investigation_id)
        try:
            self.broker.revoke_all(investigation_id, known_leases=known)
            return True
        except RevocationIncomplete as exc:
            log.warning("%s; will retry", exc)
            return False
        except SecretBrokerError as exc:
            log.warning("revocation for %s failed (%s); will retry", investigation_id, exc)
            return False

    def retry_pending(self) -> int:
        """Reconciler pass: revoke what is still pending; returns how many remain."""
        with self._db.read() as s:
            pending = set(
                s.scalars(
                    select(CredentialLeaseRow.investigation_id).where(
                        CredentialLeaseRow.state == LeaseState.REVOKE_PENDING.value
                    )
                )
            )
        return sum(0 if self.revoke(inv) else 1 for inv in pending)

    def leases(self, investigation_id: str) -> list[LeaseRecord]:
        with self._db.read() as s:
            rows = s.scalars(
                select(CredentialLeaseRow)
                .where(CredentialLeaseRow.investigation_id == investigation_id)
                .order_by(CredentialLeaseRow.issued_at)
            )
            return [_record(r) for r in rows]

    # -- a relaying broker (local): the worker's side goes through the control plane

    def redeem(self, investigation_id: str, caller: Caller, code: str) -> str:
        _require_worker(caller, investigation_id)
        if not isinstance(self.broker, RelaysWorkerReads):
            raise Forbidden("this control plane hands out Vault identities; unwrap with Vault")
        with _translated():
            grant = self.broker.redeem_handoff(code, investigation_id)
        if grant.investigation_id != investigation_id:
            raise Forbidden("this hand-off belongs to another investigation")
        return grant.token

    def read(
        self, investigation_id: str, caller: Caller, grant: str, domain: Domain, source: str
    ) -> Mapping[str, str]:
        _require_worker(caller, investigation_id)
        if not isinstance(self.broker, RelaysWorkerReads):
            raise Forbidden("this control plane hands out Vault identities; read from Vault")
        with _translated():
            credential = self.broker.read_with_grant(grant, domain, source=source)
        return dict(credential.secret)

    def read_many(
        self,
        investigation_id: str,
        caller: Caller,
        grant: str,
        keys: Sequence[tuple[Domain, str]],
    ) -> list[Mapping[str, str] | None]:
        """``read`` for each (domain, source), in order; None where nothing is stored.
        Any other refusal (out of scope, past the deadline) refuses the whole request."""
        found: list[Mapping[str, str] | None] = []
        for domain, source in keys:
            try:
                found.append(self.read(investigation_id, caller, grant, domain, source))
            except NotFound:
                found.append(None)
        return found


@contextmanager
def _translated() -> Iterator[None]:
    """Broker errors as service errors (their messages never carry secret values)."""
    try:
        yield
    except OutOfScopeDomain as exc:
        raise Forbidden(f"out of scope: {exc}") from exc
    except (HandoffRefused, DeadlineExceeded, InvestigationEnded) as exc:
        raise Forbidden(str(exc)) from exc
    except SecretNotFound as exc:
        raise NotFound(str(exc)) from exc
    except BrokerUnavailable as exc:
        raise Unavailable(str(exc)) from exc


def _require_worker(caller: Caller, investigation_id: str) -> None:
    if caller.investigation_id != investigation_id:
        raise Forbidden("only this investigation's worker may use this endpoint")
