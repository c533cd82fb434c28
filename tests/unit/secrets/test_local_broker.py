from __future__ import annotations

import stat
from datetime import timedelta
from pathlib import Path

import pytest

from nightshift.domain.vocabulary import Domain
from nightshift.secrets.fake import InMemoryLeaseRecorder
from nightshift.secrets.local import LocalBroker
from nightshift.secrets.local_store import LocalSecretStore
from nightshift.secrets.protocol import (
    BrokerUnavailable,
    DeadlineExceeded,
    HandoffRefused,
    InvestigationEnded,
    LeaseKind,
    LeaseNotRenewable,
    LeaseState,
    OutOfScopeDomain,
    SecretBroker,
    SecretNotFound,
)
from tests.unit.secrets.conftest import T0, ManualClock, context

NETWORK_SECRET = {"api_token": "net-tok-unit-7f3a"}
DB_SECRET = {"dsn": "postgresql://mon:db-pw-unit-99c1@db/incidents"}


@pytest.fixture
def recorder() -> InMemoryLeaseRecorder:
    return InMemoryLeaseRecorder()


@pytest.fixture
def broker(tmp_path: Path, clock: ManualClock, recorder: InMemoryLeaseRecorder) -> LocalBroker:
    b = LocalBroker(tmp_path / "data", recorder=recorder, clock=clock)
    b.store.put(Domain.NETWORK, "default", NETWORK_SECRET)
    b.store.put(Domain.DATABASE, "default", DB_SECRET)
    b.store.put(Domain.SECURITY, "default", {"siem_key": "siem-unit-31"})
    return b


def test_local_broker_satisfies_the_secret_broker_protocol(broker: LocalBroker) -> None:
    assert isinstance(broker, SecretBroker)


def test_issue_returns_the_stored_secret_for_a_granted_domain(broker: LocalBroker) -> None:
    cred = broker.issue(context(), Domain.NETWORK)
    assert dict(cred.secret) == NETWORK_SECRET
    assert cred.domain is Domain.NETWORK and cred.kind is LeaseKind.DOMAIN
    assert "net-tok-unit-7f3a" not in repr(cred)


def test_asking_for_a_domain_not_granted_raises_out_of_scope_domain(
    broker: LocalBroker, recorder: InMemoryLeaseRecorder
) -> None:
    with pytest.raises(OutOfScopeDomain) as refused:
        broker.issue(context(), Domain.SECURITY)
    assert refused.value.domain is Domain.SECURITY
    assert refused.value.granted == {Domain.NETWORK, Domain.DATABASE}
    assert recorder.history == []


def test_ttl_is_capped_at_the_investigation_deadline(broker: LocalBroker) -> None:
    ctx = context(deadline_in=120)
    assert broker.issue(ctx, Domain.NETWORK, ttl=3600).expires_at == ctx.deadline
    assert broker.issue(ctx, Domain.NETWORK, ttl=60).expires_at == T0 + timedelta(seconds=60)


def test_nothing_is_issued_once_the_deadline_has_passed(
    broker: LocalBroker, clock: ManualClock
) -> None:
    clock.advance(601)
    with pytest.raises(DeadlineExceeded):
        broker.issue(context(), Domain.NETWORK)


def test_a_missing_secret_is_a_named_error(broker: LocalBroker) -> None:
    with pytest.raises(SecretNotFound):
        broker.issue(context(), Domain.NETWORK, source="loki")


def test_secrets_are_encrypted_at_rest_and_the_key_file_is_owner_only(
    broker: LocalBroker,
) -> None:
    blob = broker.store.store_path.read_bytes()
    assert b"net-tok-unit-7f3a" not in blob and b"db-pw-unit-99c1" not in blob
    assert stat.S_IMODE(broker.store.key_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(broker.store.store_path.stat().st_mode) == 0o600


def test_a_store_that_does_not_match_its_key_is_unavailable_not_empty(
    broker: LocalBroker, tmp_path: Path
) -> None:
    broker.store.key_path.write_bytes(b"x" * 43 + b"=")  # a valid-looking but different key
    reopened = LocalBroker(tmp_path / "data")
    with pytest.raises(BrokerUnavailable):
        reopened.check_available()


def test_a_secret_rotated_by_another_process_is_picked_up_by_the_next_issue(
    broker: LocalBroker, tmp_path: Path
) -> None:
    first = broker.issue(context("inv-1"), Domain.NETWORK)
    LocalSecretStore(tmp_path / "data").put(Domain.NETWORK, "default", {"api_token": "rotated"})
    second = broker.issue(context("inv-2"), Domain.NETWORK)
    assert first.secret["api_token"] == "net-tok-unit-7f3a"
    assert second.secret["api_token"] == "rotated"


def test_a_handoff_code_is_redeemable_exactly_once(broker: LocalBroker) -> None:
    handoff = broker.issue_worker_handoff(context())
    grant = broker.redeem_handoff(handoff.token, "inv-1")
    assert grant.investigation_id == "inv-1"
    with pytest.raises(HandoffRefused):
        broker.redeem_handoff(handoff.token, "inv-1")


def test_another_investigations_redeem_is_refused_and_leaves_the_code_usable(
    broker: LocalBroker,
) -> None:
    """A worker that got hold of another investigation's code cannot spend it:
    the refusal comes before the code is consumed, so its owner still redeems."""
    victim = broker.issue_worker_handoff(context("inv-1"))
    broker.issue_worker_handoff(context("inv-2"))
    with pytest.raises(HandoffRefused, match="another investigation"):
        broker.redeem_handoff(victim.token, "inv-2")
    assert broker.redeem_handoff(victim.token, "inv-1").investigation_id == "inv-1"


def test_a_grant_reads_its_granted_domains_only(broker: LocalBroker) -> None:
    grant = broker.redeem_handoff(broker.issue_worker_handoff(context()).token, "inv-1")
    assert dict(broker.read_with_grant(grant.token, Domain.DATABASE).secret) == DB_SECRET
    with pytest.raises(OutOfScopeDomain):
        broker.read_with_grant(grant.token, Domain.SECURITY)


def test_an_unredeemed_handoff_expires(broker: LocalBroker, clock: ManualClock) -> None:
    handoff = broker.issue_worker_handoff(context())
    clock.advance(301)
    with pytest.raises(HandoffRefused):
        broker.redeem_handoff(handoff.token, "inv-1")


def test_a_grant_expires_at_the_deadline(broker: LocalBroker, clock: ManualClock) -> None:
    grant = broker.redeem_handoff(
        broker.issue_worker_handoff(context(deadline_in=120)).token, "inv-1"
    )
    assert grant.expires_at == T0 + timedelta(seconds=120)
    clock.advance(121)
    with pytest.raises(DeadlineExceeded):
        broker.read_with_grant(grant.token, Domain.NETWORK)


def test_revoke_all_ends_the_grant_and_records_every_lease_revoked(
    broker: LocalBroker, recorder: InMemoryLeaseRecorder
) -> None:
    ctx = context()
    broker.issue(ctx, Domain.NETWORK)
    pending = broker.issue_worker_handoff(ctx)
    grant = broker.redeem_handoff(broker.issue_worker_handoff(ctx).token, "inv-1")
    broker.read_with_grant(grant.token, Domain.DATABASE)

    broker.revoke_all("inv-1")

    with pytest.raises(HandoffRefused):
        broker.read_with_grant(grant.token, Domain.NETWORK)
    with pytest.raises(HandoffRefused):
        broker.redeem_handoff(pending.token, "inv-1")
    final = recorder.current
    assert len(final) == 4
    assert {v.state for v in final.values()} == {LeaseState.REVOKED}
    assert all(v.revoked_at == T0 for v in final.values())


def test_nothing_is_issued_to_an_investigation_after_its_leases_were_revoked(
    broker: LocalBroker,
) -> None:
    broker.issue(context(), Domain.NETWORK)
    broker.revoke_all("inv-1")
    with pytest.raises(InvestigationEnded):
        broker.issue(context(), Domain.NETWORK)
    with pytest.raises(InvestigationEnded):
        broker.issue_worker_handoff(context())


def test_revoke_all_is_idempotent(broker: LocalBroker, recorder: InMemoryLeaseRecorder) -> None:
    broker.issue(context(), Domain.NETWORK)
    broker.revoke_all("inv-1")
    records = len(recorder.history)
    assert [v.state for v in broker.revoke_all("inv-1")] == [LeaseState.REVOKED]
    assert len(recorder.history) == records


def test_a_restart_invalidates_outstanding_grants(broker: LocalBroker, tmp_path: Path) -> None:
    grant = broker.redeem_handoff(broker.issue_worker_handoff(context()).token, "inv-1")
    restarted = LocalBroker(tmp_path / "data")
    with pytest.raises(HandoffRefused):
        restarted.read_with_grant(grant.token, Domain.NETWORK)


def test_renewal_extends_a_lease_but_never_past_the_deadline(
    broker: LocalBroker, clock: ManualClock
) -> None:
    ctx = context(deadline_in=300)
    cred = broker.issue(ctx, Domain.NETWORK, ttl=60)
    clock.advance(50)
    assert broker.renew(cred.lease_id, increment=60).expires_at == T0 + timedelta(seconds=110)
    assert broker.renew(cred.lease_id, increment=3600).expires_at == ctx.deadline


def test_a_revoked_lease_cannot_be_renewed(broker: LocalBroker) -> None:
    cred = broker.issue(context(), Domain.NETWORK, ttl=60)
    broker.revoke_all("inv-1")
    with pytest.raises(LeaseNotRenewable):
        broker.renew(cred.lease_id)


def test_the_recorder_never_sees_a_secret_value(
    broker: LocalBroker, recorder: InMemoryLeaseRecorder
) -> None:
    ctx = context()
    handoff = broker.issue_worker_handoff(ctx)
    grant = broker.redeem_handoff(handoff.token, "inv-1")
    broker.read_with_grant(grant.token, Domain.DATABASE)
    broker.issue(ctx, Domain.NETWORK)
    broker.revoke_all("inv-1")
    recorded = "\n".join(repr(r) for r in recorder.history)
    for secret in ("net-tok-unit-7f3a", "db-pw-unit-99c1", handoff.token, grant.token):
        assert secret not in recorded
    assert "nshg_" not in repr(grant)
