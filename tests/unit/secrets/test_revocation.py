"""Revocation rules shared by every broker (exercised through the fake)."""

from __future__ import annotations

import pytest

from nightshift.domain.vocabulary import Domain
from nightshift.secrets.fake import FakeSecretBroker, InMemoryLeaseRecorder
from nightshift.secrets.leases import RetryPolicy
from nightshift.secrets.protocol import (
    BrokerUnavailable,
    HandoffRefused,
    LeaseKind,
    LeaseRecord,
    LeaseState,
    RevocationIncomplete,
    SecretBroker,
)
from tests.unit.secrets.conftest import ManualClock, context

SECRETS = {(Domain.NETWORK, "default"): {"api_token": "fake-net-tok-41"}}


def _broker(
    recorder: InMemoryLeaseRecorder, attempts: int, sleeps: list[float], clock: ManualClock
) -> FakeSecretBroker:
    retry = RetryPolicy(attempts=attempts, first_delay=0.5, max_delay=1.5, sleep=sleeps.append)
    return FakeSecretBroker(SECRETS, recorder=recorder, clock=clock, revoke_retry=retry)


def test_the_fake_satisfies_the_secret_broker_protocol() -> None:
    assert isinstance(FakeSecretBroker(), SecretBroker)


def test_retry_policy_backs_off_exponentially_up_to_its_cap() -> None:
    assert RetryPolicy(attempts=5, first_delay=0.5, max_delay=1.5).delays() == [0.5, 1.0, 1.5, 1.5]


def test_a_failing_revocation_is_retried_until_it_succeeds(clock: ManualClock) -> None:
    recorder, sleeps = InMemoryLeaseRecorder(), []
    broker = _broker(recorder, attempts=4, sleeps=sleeps, clock=clock)
    cred = broker.issue(context(), Domain.NETWORK)
    broker.revocation_failures = 2

    broker.revoke_all("inv-1")

    states = [r.state for r in recorder.history if r.lease_id == cred.lease_id]
    assert states == [
        LeaseState.ACTIVE,
        LeaseState.REVOKE_PENDING,
        LeaseState.REVOKE_PENDING,
        LeaseState.REVOKED,
    ]
    assert sleeps == [0.5, 1.0]


def test_a_revocation_that_keeps_failing_stays_revoke_pending_until_a_later_call(
    clock: ManualClock,
) -> None:
    recorder, sleeps = InMemoryLeaseRecorder(), []
    broker = _broker(recorder, attempts=2, sleeps=sleeps, clock=clock)
    cred = broker.issue(context(), Domain.NETWORK)
    broker.available = False

    with pytest.raises(RevocationIncomplete) as incomplete:
        broker.revoke_all("inv-1")
    assert incomplete.value.pending == (cred.lease_id,)
    pending = recorder.current[cred.lease_id]
    assert pending.state is LeaseState.REVOKE_PENDING
    assert pending.last_error == "BrokerUnavailable"
    assert pending.revoked_at is None

    broker.available = True
    broker.revoke_all("inv-1")  # the reconciler's next pass
    assert recorder.current[cred.lease_id].state is LeaseState.REVOKED


def test_leases_known_only_from_the_table_are_revoked_after_a_restart(clock: ManualClock) -> None:
    table = InMemoryLeaseRecorder()
    before = FakeSecretBroker(SECRETS, recorder=table, clock=clock)
    before.issue(context(), Domain.NETWORK)
    before.issue_worker_handoff(context())
    rows: list[LeaseRecord] = list(table.current.values())

    after = FakeSecretBroker(SECRETS, recorder=table, clock=clock)
    revoked = after.revoke_all("inv-1", known_leases=rows)

    assert sorted(v.lease_id for v in revoked) == sorted(v.lease_id for v in rows)
    assert {v.state for v in revoked} == {LeaseState.REVOKED}


def test_identity_leases_are_revoked_after_the_credentials_they_created(
    clock: ManualClock,
) -> None:
    order: list[LeaseKind] = []
    broker = FakeSecretBroker(SECRETS, clock=clock)
    broker.issue_worker_handoff(context())
    broker.issue(context(), Domain.NETWORK)
    revoke_one = broker._revoke_one

    def spy(lease: LeaseRecord) -> None:
        order.append(lease.kind)
        revoke_one(lease)

    broker._revoke_one = spy  # type: ignore[method-assign]
    broker.revoke_all("inv-1")
    assert order == [LeaseKind.DOMAIN, LeaseKind.WORKER]


def test_an_unavailable_backend_fails_issue_closed(clock: ManualClock) -> None:
    broker = FakeSecretBroker(SECRETS, clock=clock)
    broker.available = False
    with pytest.raises(BrokerUnavailable):
        broker.issue(context(), Domain.NETWORK)
    assert broker.leases("inv-1") == []


def test_a_fake_handoff_is_single_use(clock: ManualClock) -> None:
    broker = FakeSecretBroker(SECRETS, clock=clock)
    handoff = broker.issue_worker_handoff(context())
    assert broker.redeem_handoff(handoff.token).kind is LeaseKind.WORKER
    with pytest.raises(HandoffRefused):
        broker.redeem_handoff(handoff.token)


def test_a_recorder_failure_on_issue_fails_the_issue(clock: ManualClock) -> None:
    class BrokenRecorder:
        def record(self, lease: LeaseRecord) -> None:
            raise RuntimeError("table unavailable")

    broker = FakeSecretBroker(SECRETS, recorder=BrokenRecorder(), clock=clock)
    with pytest.raises(RuntimeError):
        broker.issue(context(), Domain.NETWORK)


def test_a_recorder_failure_does_not_abort_revocation(clock: ManualClock) -> None:
    calls: list[LeaseRecord] = []

    class FlakyRecorder:
        def record(self, lease: LeaseRecord) -> None:
            calls.append(lease)
            if lease.state is LeaseState.REVOKED:
                raise RuntimeError("table unavailable")

    broker = FakeSecretBroker(SECRETS, recorder=FlakyRecorder(), clock=clock)
    broker.issue(context(), Domain.NETWORK)
    broker.issue(context(), Domain.NETWORK)
    revoked = broker.revoke_all("inv-1")
    assert [v.state for v in revoked] == [LeaseState.REVOKED, LeaseState.REVOKED]
