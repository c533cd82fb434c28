"""The secret broker contract: who may hold which credential, for how long.

A broker hands out credentials scoped to one investigation and one domain,
never beyond the investigation's deadline, and revokes everything an
investigation holds when it ends. Every lease is reported to a
:class:`LeaseRecorder` as metadata only: secret values never leave the
:class:`Credential` / :class:`WorkerHandoff` objects, whose reprs hide them,
so a stray ``log.info("%s", cred)`` cannot leak them.

Methods are synchronous on purpose: the control plane calls them from a
worker thread, and hvac is a blocking client.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Protocol, runtime_checkable

from nightshift.domain.vocabulary import Domain, TrustPhase


# The error names come from the design (OutOfScopeDomain, BrokerUnavailable, ...):
# they read as the condition the caller audits, hence no "Error" suffix.
class SecretBrokerError(Exception):
    """Base of every error a broker raises; messages never contain secret values."""


class BrokerUnavailable(SecretBrokerError):
    """The secret backend cannot be reached or is sealed: fail closed, never fall back."""


class OutOfScopeDomain(SecretBrokerError):
    """A credential was asked for a domain the investigation was not granted.

    The caller audits this as an out-of-scope attempt (a demotion trigger).
    """

    def __init__(self, investigation_id: str, domain: Domain, granted: Iterable[Domain]) -> None:
        self.investigation_id = investigation_id
        self.domain = domain
        self.granted = frozenset(granted)
        names = ", ".join(sorted(d.value for d in self.granted)) or "none"
        super().__init__(
            f"investigation {investigation_id} asked for domain {domain.value!r}; granted: {names}"
        )


class DeadlineExceeded(SecretBrokerError):
    """The investigation's deadline has passed: nothing may be issued or renewed."""


class InvestigationEnded(SecretBrokerError):
    """The investigation's leases were revoked; it cannot be issued anything again."""


class AccessDenied(SecretBrokerError):
    """The backend refused a read with this identity (e.g. a phase policy denies the path)."""


class SecretNotFound(SecretBrokerError):
    """No secret is stored for this domain and source."""


class LeaseNotFound(SecretBrokerError):
    """The broker knows no lease with this id."""


class LeaseNotRenewable(SecretBrokerError):
    """The lease is revoked, or the broker cannot renew this kind of lease."""


class HandoffRefused(SecretBrokerError):
    """A hand-off was already redeemed, expired, revoked or never existed (single use)."""


class RevocationIncomplete(SecretBrokerError):
    """Some leases could not be revoked yet; they are recorded as ``revoke_pending``.

    Call ``revoke_all`` again (the reconciler does) until it returns normally.
    """

    def __init__(self, investigation_id: str, pending: Sequence[str]) -> None:
        self.investigation_id = investigation_id
        self.pending = tuple(pending)
        super().__init__(
            f"investigation {investigation_id}: {len(self.pending)} lease(s) not revoked yet"
        )


class LeaseState(StrEnum):
    ACTIVE = "active"
    REVOKED = "revoked"
    # A revocation was attempted and failed; the lease may still be live on the backend.
    REVOKE_PENDING = "revoke_pending"


class LeaseKind(StrEnum):
    DOMAIN = "domain"  # a static data-source credential (KV or the local store)
    DATABASE = "database"  # a dynamic credential with a backend lease (a real DB user)
    CONTROL = "control"  # the per-investigation identity the broker reads with
    WORKER = "worker"  # the worker's own per-investigation identity (the hand-off)


@dataclass(frozen=True, slots=True)
class InvestigationContext:
    """What the broker needs to know about an investigation to scope its credentials."""

    investigation_id: str
    agent: str
    owner: str
    phase: TrustPhase
    domains: frozenset[Domain]
    deadline: datetime  # timezone-aware

    def __post_init__(self) -> None:
        if self.deadline.tzinfo is None:
            raise ValueError("deadline must be timezone-aware")
        if not self.investigation_id:
            raise ValueError("investigation_id must not be empty")


@dataclass(frozen=True, slots=True)
class LeaseRecord:
    """Lease metadata for the ``credential_leases`` table. Never carries a secret value."""

    lease_id: str
    investigation_id: str
    domain: Domain | None  # None for identity leases, which cover all granted domains
    kind: LeaseKind
    issued_at: datetime
    expires_at: datetime
    state: LeaseState = LeaseState.ACTIVE
    revoked_at: datetime | None = None
    source: str | None = None
    last_error: str | None = None  # exception type of the last failed revocation


@dataclass(frozen=True, slots=True)
class Credential:
    """A secret payload with its lease. Keep it in memory only; never persist or log it."""

    lease_id: str
    investigation_id: str
    domain: Domain
    source: str
    kind: LeaseKind
    issued_at: datetime
    expires_at: datetime
    secret: Mapping[str, str] = field(repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "secret", MappingProxyType(dict(self.secret)))

    def secret_values(self) -> tuple[str, ...]:
        """What a Redactor must be handed so these values never reach output."""
        return tuple(self.secret.values())


@dataclass(frozen=True, slots=True)
class WorkerHandoff:
    """The worker's single-use ticket to its own per-investigation identity.

    For Vault this is a response-wrapping token; for the local broker a
    hand-off code. Either is refused the second time it is redeemed, so a
    hand-off stolen and used first shows up as the worker's own failure.
    """

    investigation_id: str
    lease_id: str
    backend: str
    token: str = field(repr=False)
    redeem_by: datetime  # the hand-off itself expires then
    expires_at: datetime  # the identity it unlocks expires then (<= deadline)


class LeaseRecorder(Protocol):
    """Receives every lease state change; the control plane backs it with a table."""

    def record(self, lease: LeaseRecord) -> None: ...


@runtime_checkable
class SecretBroker(Protocol):
    """Per-investigation, per-domain, deadline-bounded credentials."""

    def check_available(self) -> None:
        """Raise :class:`BrokerUnavailable` unless the backend answers and is usable."""
        ...

    def issue(
        self,
        investigation: InvestigationContext,
        domain: Domain,
        *,
        source: str = "default",
        ttl: float | None = None,
    ) -> Credential:
        """A credential for ``source`` in ``domain``; ``ttl`` seconds, capped at the deadline.

        Raises OutOfScopeDomain, DeadlineExceeded, BrokerUnavailable, AccessDenied,
        SecretNotFound.
        """
        ...

    def issue_worker_handoff(self, investigation: InvestigationContext) -> WorkerHandoff:
        """The worker's own identity, scoped to the granted domains, expiring at the deadline."""
        ...

    def renew(self, lease_id: str, *, increment: float | None = None) -> LeaseRecord:
        """Extend a lease by ``increment`` seconds (default: to the deadline), never past it."""
        ...

    def revoke_all(
        self, investigation_id: str, *, known_leases: Iterable[LeaseRecord] = ()
    ) -> Sequence[LeaseRecord]:
        """Revoke every lease of the investigation, retrying; idempotent.

        ``known_leases`` are records from the lease table, so leases issued
        before a control-plane restart are revoked too. Raises
        RevocationIncomplete when some remain ``revoke_pending``.
        """
        ...

    def leases(self, investigation_id: str) -> Sequence[LeaseRecord]:
        """The broker's view of the investigation's leases (metadata only)."""
        ...


class WorkerGrant(Protocol):
    """What a relayed hand-off gives the worker: a bearer grant for its investigation."""

    @property
    def investigation_id(self) -> str: ...

    @property
    def token(self) -> str: ...


@runtime_checkable
class RelaysWorkerReads(Protocol):
    """A broker the worker cannot reach itself (the embedded local broker): it
    redeems its hand-off and reads its credentials through the control plane.
    A broker without this capability (Vault) gives the worker an identity it
    uses against the backend directly, and the control plane relays nothing."""

    def redeem_handoff(self, code: str, investigation_id: str) -> WorkerGrant:
        """The worker's grant for the hand-off code; single use, this investigation only."""
        ...

    def read_with_grant(
        self, grant_token: str, domain: Domain, *, source: str = "default"
    ) -> Credential:
        """A credential for ``source`` in ``domain``, within the grant's scope and expiry."""
        ...
