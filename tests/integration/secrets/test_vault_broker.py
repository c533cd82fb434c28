"""The Vault broker against a real OpenBao dev server and a real PostgreSQL.

Every claim is checked on the server (token lookups, lease lookups,
pg_roles), not only in the broker's own records.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from hvac import exceptions as hvac_errors

from nightshift.domain.vocabulary import Domain, TrustPhase
from nightshift.secrets.fake import InMemoryLeaseRecorder
from nightshift.secrets.leases import RetryPolicy
from nightshift.secrets.protocol import (
    AccessDenied,
    BrokerUnavailable,
    HandoffRefused,
    InvestigationEnded,
    LeaseKind,
    LeaseState,
    OutOfScopeDomain,
    RevocationIncomplete,
)
from nightshift.secrets.vault import TOKEN_LEASE_PREFIX, VaultBroker
from nightshift.secrets.vault_client import VaultAuth, VaultEndpoint
from nightshift.secrets.vault_worker import VaultWorkerSession
from tests.integration.secrets.conftest import (
    CONTROL_PLANE_SA,
    DATASOURCE_SECRETS,
    DB_ADMIN_PASSWORD,
    JWT_AUDIENCE,
    REMEDIATION_SECRET,
    Bao,
    make_context,
)
from tests.integration.secrets.tcp_proxy import CuttableProxy

pytestmark = pytest.mark.slow


def _accessor(lease_id: str) -> str:
    return lease_id.removeprefix(TOKEN_LEASE_PREFIX)


def _token_alive(bao: Bao, lease_id: str) -> bool:
    try:
        bao.admin.auth.token.lookup_accessor(_accessor(lease_id))
    except hvac_errors.InvalidRequest:
        return False
    return True


def _lease_alive(bao: Bao, lease_id: str) -> bool:
    try:
        bao.admin.sys.read_lease(lease_id)
    except hvac_errors.InvalidRequest:
        return False
    return True


def _eventually(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    """Poll server state the server changes asynchronously (token-child revocation)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def _pg_role_exists(bao: Bao, name: str) -> bool:
    with psycopg.connect(bao.pg.admin_dsn) as conn:
        row = conn.execute("SELECT count(*) FROM pg_roles WHERE rolname = %s", (name,)).fetchone()
    assert row is not None
    return bool(row[0])


def test_investigation_tokens_carry_the_investigation_in_their_server_side_metadata(
    bao: Bao, recorder: InMemoryLeaseRecorder
) -> None:
    broker = bao.broker(recorder)
    ctx = make_context()
    broker.issue(ctx, Domain.NETWORK)
    handoff = broker.issue_worker_handoff(ctx)

    identities = [v for v in broker.leases(ctx.investigation_id) if v.domain is None]
    assert {v.kind for v in identities} == {LeaseKind.CONTROL, LeaseKind.WORKER}
    for lease in identities:
        data = bao.admin.auth.token.lookup_accessor(_accessor(lease.lease_id))["data"]
        assert data["meta"]["investigation_id"] == ctx.investigation_id
        assert data["meta"]["agent"] == "checkout-diagnoser"
        assert data["meta"]["owner"] == "alice@example.com"
        assert data["meta"]["phase"] == "shadow"
        assert set(data["policies"]) >= {
            "nightshift-phase-shadow",
            "nightshift-domain-network",
            "nightshift-domain-database",
        }
        assert "nightshift-domain-security" not in data["policies"]
        # Bounded by the deadline on the server, whatever this process does later.
        assert data["ttl"] <= (ctx.deadline - datetime.now(UTC)).total_seconds() + 1
        assert data["explicit_max_ttl"] <= 10 * 60
    session = VaultWorkerSession.from_handoff(bao.endpoint, handoff.token)
    assert session.lookup_self()["meta"]["investigation_id"] == ctx.investigation_id
    broker.revoke_all(ctx.investigation_id)


def test_shadow_token_reads_datasources_but_the_server_refuses_remediation_paths(
    bao: Bao,
) -> None:
    broker = bao.broker()
    ctx = make_context(TrustPhase.SHADOW)
    session = VaultWorkerSession.from_handoff(bao.endpoint, broker.issue_worker_handoff(ctx).token)

    assert (
        session.read_datasource(Domain.NETWORK) == DATASOURCE_SECRETS[(Domain.NETWORK, "default")]
    )
    with pytest.raises(AccessDenied) as denied:
        session.read_remediation("cluster")
    assert isinstance(denied.value.__cause__, hvac_errors.Forbidden)  # a 403 from the server
    with pytest.raises(AccessDenied):  # not granted this domain: no policy, no read
        session.read_datasource(Domain.APPLICATION)
    broker.revoke_all(ctx.investigation_id)


def test_the_same_worker_code_may_read_remediation_paths_once_the_phase_allows_it(
    bao: Bao,
) -> None:
    broker = bao.broker()
    ctx = make_context(TrustPhase.LIMITED_REMEDIATION)
    session = VaultWorkerSession.from_handoff(bao.endpoint, broker.issue_worker_handoff(ctx).token)

    assert session.read_remediation("cluster") == REMEDIATION_SECRET
    broker.revoke_all(ctx.investigation_id)


def test_every_lease_of_an_investigation_is_revoked_on_the_server_when_it_ends(
    bao: Bao, recorder: InMemoryLeaseRecorder
) -> None:
    broker = bao.broker(recorder)
    ctx = make_context()
    broker.issue(ctx, Domain.NETWORK)
    db = broker.issue(ctx, Domain.DATABASE, source="incidents")
    session = VaultWorkerSession.from_handoff(bao.endpoint, broker.issue_worker_handoff(ctx).token)
    worker_db = session.database_credentials(Domain.DATABASE, "incidents")
    leases = broker.leases(ctx.investigation_id)
    assert _lease_alive(bao, db.lease_id) and _lease_alive(bao, worker_db.lease_id)
    assert all(_token_alive(bao, v.lease_id) for v in leases if v.domain is None)

    broker.revoke_all(ctx.investigation_id)

    assert not _lease_alive(bao, db.lease_id)
    # The worker minted this one itself, so the broker has no id for it: the
    # server revokes it as a child of the worker's token, in the background.
    assert _eventually(lambda: not _lease_alive(bao, worker_db.lease_id))
    assert _eventually(lambda: not _pg_role_exists(bao, worker_db.secret["username"]))
    assert not any(_token_alive(bao, v.lease_id) for v in leases if v.domain is None)
    final = recorder.current
    assert {final[v.lease_id].state for v in leases} == {LeaseState.REVOKED}
    assert all(final[v.lease_id].revoked_at is not None for v in leases)
    with pytest.raises(AccessDenied):
        session.read_datasource(Domain.NETWORK)
    with pytest.raises(InvestigationEnded):
        broker.issue(ctx, Domain.NETWORK)


def test_a_dynamic_postgres_user_exists_during_the_investigation_and_is_gone_after(
    bao: Bao,
) -> None:
    broker = bao.broker()
    ctx = make_context(domains=frozenset({Domain.DATABASE}))
    cred = broker.issue(ctx, Domain.DATABASE, source="incidents")
    username = cred.secret["username"]

    assert _pg_role_exists(bao, username)
    dsn = f"postgresql://{username}:{cred.secret['password']}@127.0.0.1:{bao.pg.port}/postgres"
    with psycopg.connect(dsn) as conn:
        assert conn.execute("SELECT current_user").fetchone() == (username,)

    broker.revoke_all(ctx.investigation_id)
    assert not _pg_role_exists(bao, username)


def test_a_wrapped_handoff_unwrapped_twice_is_refused(bao: Bao) -> None:
    broker = bao.broker()
    ctx = make_context()
    handoff = broker.issue_worker_handoff(ctx)
    VaultWorkerSession.from_handoff(bao.endpoint, handoff.token)

    with pytest.raises(HandoffRefused):
        VaultWorkerSession.from_handoff(bao.endpoint, handoff.token)
    broker.revoke_all(ctx.investigation_id)


def test_jwt_login_works_with_the_bound_audience_and_fails_with_another(bao: Bao) -> None:
    good = bao.sign_jwt(
        audience=JWT_AUDIENCE, **{"kubernetes.io": {"pod": {"name": "inv-42-worker-x7"}}}
    )
    session = VaultWorkerSession.from_jwt(bao.endpoint, role="agent-checkout-shadow", jwt=good)
    assert session.read_datasource(Domain.NETWORK)["api_token"]
    assert session.lookup_self()["meta"]["pod"] == "inv-42-worker-x7"
    with pytest.raises(AccessDenied):
        session.read_remediation("cluster")

    wrong = bao.sign_jwt(audience="some-other-service")
    with pytest.raises(AccessDenied, match="audience"):
        VaultWorkerSession.from_jwt(bao.endpoint, role="agent-checkout-shadow", jwt=wrong)


def test_jwt_login_fails_for_another_service_account_with_the_right_audience(bao: Bao) -> None:
    other_subject = bao.sign_jwt(audience=JWT_AUDIENCE, subject="system:serviceaccount:x:y")
    with pytest.raises(AccessDenied, match="subject"):
        VaultWorkerSession.from_jwt(bao.endpoint, role="agent-checkout-shadow", jwt=other_subject)


def test_jwt_login_fails_for_a_token_signed_with_another_key(bao: Bao) -> None:
    forged = bao.sign_jwt(audience=JWT_AUDIENCE, key=rsa.generate_private_key(65537, 2048))
    with pytest.raises(AccessDenied):
        VaultWorkerSession.from_jwt(bao.endpoint, role="agent-checkout-shadow", jwt=forged)


def test_a_rotated_secret_is_picked_up_by_the_next_investigation(bao: Bao) -> None:
    broker = bao.broker()
    first = make_context()
    assert broker.issue(first, Domain.NETWORK).secret == {"api_token": "net-tok-5b2e91d0"}

    bao.admin.secrets.kv.v2.create_or_update_secret(
        path="nightshift/datasources/network/default", secret={"api_token": "net-tok-rotated"}
    )
    try:
        second = make_context()
        assert broker.issue(second, Domain.NETWORK).secret == {"api_token": "net-tok-rotated"}
    finally:
        bao.admin.secrets.kv.v2.create_or_update_secret(
            path="nightshift/datasources/network/default",
            secret=DATASOURCE_SECRETS[(Domain.NETWORK, "default")],
        )
    broker.revoke_all(first.investigation_id)
    broker.revoke_all(second.investigation_id)


def test_an_unreachable_vault_fails_the_investigation_closed(bao: Bao) -> None:
    dead = VaultEndpoint(addr="http://127.0.0.1:9", timeout=1.0)
    broker = VaultBroker(dead, VaultAuth(token=bao.control_token))
    ctx = make_context()

    with pytest.raises(BrokerUnavailable):
        broker.check_available()
    with pytest.raises(BrokerUnavailable):
        broker.issue(ctx, Domain.NETWORK)
    with pytest.raises(BrokerUnavailable):
        broker.issue_worker_handoff(ctx)
    assert broker.leases(ctx.investigation_id) == []


def test_an_out_of_scope_domain_is_refused_and_nothing_is_minted(bao: Bao) -> None:
    recorder = InMemoryLeaseRecorder()
    broker = bao.broker(recorder)
    ctx = make_context(domains=frozenset({Domain.NETWORK}))

    with pytest.raises(OutOfScopeDomain) as refused:
        broker.issue(ctx, Domain.SECURITY)
    assert refused.value.domain is Domain.SECURITY
    assert recorder.history == []


def test_a_restarted_control_plane_revokes_leases_it_only_knows_from_the_lease_table(
    bao: Bao, recorder: InMemoryLeaseRecorder
) -> None:
    before_restart = bao.broker(recorder)
    ctx = make_context()
    db = before_restart.issue(ctx, Domain.DATABASE, source="incidents")
    before_restart.issue_worker_handoff(ctx)
    table = list(recorder.current.values())

    after_restart = bao.broker(InMemoryLeaseRecorder())
    revoked = after_restart.revoke_all(ctx.investigation_id, known_leases=table)

    assert {v.state for v in revoked} == {LeaseState.REVOKED}
    assert not _pg_role_exists(bao, db.secret["username"])
    assert not any(_token_alive(bao, v.lease_id) for v in table if v.domain is None)


def test_a_short_ttl_shortens_the_database_lease_on_the_server(bao: Bao) -> None:
    broker = bao.broker()
    ctx = make_context()
    cred = broker.issue(ctx, Domain.DATABASE, source="incidents", ttl=30)
    server_ttl = bao.admin.sys.read_lease(cred.lease_id)["data"]["ttl"]
    assert 0 < server_ttl <= 30  # the role's default is 10 minutes
    assert (cred.expires_at - cred.issued_at).total_seconds() == 30
    broker.revoke_all(ctx.investigation_id)


def test_dynamic_leases_never_outlive_the_deadline_on_the_server(bao: Bao) -> None:
    broker = bao.broker()
    ctx = make_context(minutes=2)  # shorter than the role's 10-minute default
    cred = broker.issue(ctx, Domain.DATABASE, source="incidents")
    server_ttl = bao.admin.sys.read_lease(cred.lease_id)["data"]["ttl"]
    assert server_ttl <= 120
    broker.revoke_all(ctx.investigation_id)


def test_leases_that_already_expired_on_the_server_count_as_revoked(bao: Bao) -> None:
    broker = bao.broker()
    ctx = make_context()
    db = broker.issue(ctx, Domain.DATABASE, source="incidents")
    broker.issue_worker_handoff(ctx)
    for lease in broker.leases(ctx.investigation_id):  # what a deadline does on the server
        if lease.kind is LeaseKind.DATABASE:
            bao.admin.sys.revoke_lease(lease.lease_id)
        else:
            bao.admin.auth.token.revoke_accessor(_accessor(lease.lease_id))
    assert not _lease_alive(bao, db.lease_id)

    revoked = broker.revoke_all(ctx.investigation_id)
    assert {v.state for v in revoked} == {LeaseState.REVOKED}


def test_renewal_never_runs_past_the_deadline(bao: Bao) -> None:
    broker = bao.broker()
    ctx = make_context(minutes=2)
    cred = broker.issue(ctx, Domain.DATABASE, source="incidents")
    renewed = broker.renew(cred.lease_id, increment=3600)
    assert renewed.expires_at <= ctx.deadline
    control = next(v for v in broker.leases(ctx.investigation_id) if v.kind == LeaseKind.CONTROL)
    assert broker.renew(control.lease_id, increment=3600).expires_at <= ctx.deadline
    broker.revoke_all(ctx.investigation_id)


def test_no_secret_value_reaches_the_recorder_or_the_logs_after_a_full_run(
    bao: Bao, recorder: InMemoryLeaseRecorder, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    broker = bao.broker(recorder)
    ctx = make_context(domains=frozenset({Domain.NETWORK, Domain.DATABASE}))
    creds = [
        broker.issue(ctx, Domain.NETWORK),
        broker.issue(ctx, Domain.DATABASE),
        broker.issue(ctx, Domain.DATABASE, source="incidents"),
    ]
    handoff = broker.issue_worker_handoff(ctx)
    session = VaultWorkerSession.from_handoff(bao.endpoint, handoff.token)
    worker_db = session.database_credentials(Domain.DATABASE, "incidents")
    logging.getLogger("test").info("issued %s and %s, session %s", creds, handoff, session)
    broker.revoke_all(ctx.investigation_id)

    secrets = {v for c in [*creds, worker_db] for v in c.secret_values()}
    secrets |= {handoff.token, session.token, bao.control_token, DB_ADMIN_PASSWORD}
    secrets -= {c.secret.get("username") for c in [*creds, worker_db]}
    recorded = "\n".join(repr(r) for r in recorder.history)
    assert recorder.history, "the recorder saw the leases"
    server_audit = bao.audit_log.read_text()
    assert ctx.investigation_id in server_audit
    for secret in secrets:
        assert secret not in recorded
        assert secret not in caplog.text
        assert secret not in repr(creds) + repr(handoff) + repr(session)
        assert secret not in server_audit  # the server HMACs them in its own log


def test_the_servers_audit_log_attributes_every_read_to_the_investigation(bao: Bao) -> None:
    broker = bao.broker()
    ctx = make_context()
    broker.issue(ctx, Domain.DATABASE)
    session = VaultWorkerSession.from_handoff(bao.endpoint, broker.issue_worker_handoff(ctx).token)
    session.read_datasource(Domain.NETWORK)
    with pytest.raises(AccessDenied):
        session.read_remediation("cluster")

    reads = [
        (e["request"]["path"], e["auth"]["metadata"]["holder"], "error" in e)
        for e in bao.audit_entries()
        if e["type"] == "response"
        and e["request"].get("path", "").startswith("secret/data/nightshift/")
        and (e.get("auth") or {}).get("metadata", {}).get("investigation_id")
        == ctx.investigation_id
    ]
    assert sorted(reads) == [
        ("secret/data/nightshift/datasources/database/default", "control", False),
        ("secret/data/nightshift/datasources/network/default", "worker", False),
        ("secret/data/nightshift/remediation/cluster", "worker", True),
    ]
    broker.revoke_all(ctx.investigation_id)


def test_while_vault_is_unreachable_reads_fail_and_leases_stay_revoke_pending_until_it_is_back(
    bao: Bao, recorder: InMemoryLeaseRecorder
) -> None:
    with CuttableProxy(bao.port) as proxy:
        endpoint = VaultEndpoint(addr=proxy.addr, timeout=2.0)
        broker = VaultBroker(
            endpoint,
            VaultAuth(token=bao.control_token),
            recorder=recorder,
            dynamic_sources=[(Domain.DATABASE, "incidents")],
            revoke_retry=RetryPolicy(attempts=2, first_delay=0.01),
        )
        ctx = make_context()
        db = broker.issue(ctx, Domain.DATABASE, source="incidents")
        session = VaultWorkerSession.from_handoff(endpoint, broker.issue_worker_handoff(ctx).token)
        leases = broker.leases(ctx.investigation_id)

        proxy.cut()
        with pytest.raises(BrokerUnavailable):  # the agent loop reports a tool error
            session.read_datasource(Domain.NETWORK)
        with pytest.raises(RevocationIncomplete):
            broker.revoke_all(ctx.investigation_id)
        pending = [recorder.current[v.lease_id] for v in leases]
        assert {v.state for v in pending} == {LeaseState.REVOKE_PENDING}
        assert {v.last_error for v in pending} == {"BrokerUnavailable"}
        assert _pg_role_exists(bao, db.secret["username"])  # still live, and recorded as such

        proxy.restore()
        broker.revoke_all(ctx.investigation_id)  # the reconciler's next pass

    assert {recorder.current[v.lease_id].state for v in leases} == {LeaseState.REVOKED}
    assert not _pg_role_exists(bao, db.secret["username"])
    assert not any(_token_alive(bao, v.lease_id) for v in leases if v.domain is None)


def test_the_servers_health_check_passes_with_the_control_plane_token(bao: Bao) -> None:
    bao.broker().check_available()


class _Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


def _control_plane_logins(bao: Bao) -> int:
    return sum(
        1
        for e in bao.audit_entries()
        if e["type"] == "response"
        and e["request"].get("path") == "auth/jwt/login"
        and ((e.get("response") or {}).get("auth") or {}).get("metadata", {}).get("role")
        == "nightshift-control-plane"
    )


def test_an_in_cluster_control_plane_logs_in_with_its_jwt_and_again_before_the_token_expires(
    bao: Bao, tmp_path: Path
) -> None:
    jwt_file = tmp_path / "token"
    jwt_file.write_text(bao.sign_jwt(audience=JWT_AUDIENCE, subject=CONTROL_PLANE_SA))
    clock = _Clock()
    auth = VaultAuth(method="jwt", role="nightshift-control-plane", jwt_path=jwt_file)
    broker = VaultBroker(bao.endpoint, auth, clock=clock)
    ctx = make_context()
    logins = _control_plane_logins(bao)

    broker.issue(ctx, Domain.NETWORK)
    assert _control_plane_logins(bao) == logins + 1
    broker.issue_worker_handoff(ctx)
    assert _control_plane_logins(bao) == logins + 1  # still within the token's life

    clock.now += timedelta(seconds=50)  # past 80 % of the role's 60 s token TTL
    jwt_file.write_text(bao.sign_jwt(audience=JWT_AUDIENCE, subject=CONTROL_PLANE_SA))
    broker.revoke_all(ctx.investigation_id)
    assert _control_plane_logins(bao) == logins + 2
    assert {v.state for v in broker.leases(ctx.investigation_id)} == {LeaseState.REVOKED}
