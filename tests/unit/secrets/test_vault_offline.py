"""VaultBroker behaviour that needs no server (the real one is in tests/integration/secrets)."""

from __future__ import annotations

import pytest

from nightshift.domain.vocabulary import Domain
from nightshift.observability.audit_anchor import SignerUnavailable
from nightshift.secrets.fake import InMemoryLeaseRecorder
from nightshift.secrets.protocol import (
    AccessDenied,
    BrokerUnavailable,
    OutOfScopeDomain,
    SecretBroker,
)
from nightshift.secrets.vault import VaultBroker
from nightshift.secrets.vault_client import VaultAuth, VaultEndpoint
from nightshift.secrets.vault_transit import TransitSigner
from tests.unit.secrets.conftest import T0, context

# Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
NOWHERE = VaultEndpoint(addr="http://127.0.0.1:9", timeout=1.0)


def test_the_vault_broker_satisfies_the_secret_broker_protocol_without_contacting_vault() -> None:
    assert isinstance(VaultBroker(NOWHERE, VaultAuth(token="t")), SecretBroker)


def test_an_out_of_scope_domain_is_refused_before_any_request() -> None:
    recorder = InMemoryLeaseRecorder()
    broker = VaultBroker(NOWHERE, VaultAuth(token="t"), recorder=recorder)
    with pytest.raises(OutOfScopeDomain):
        broker.issue(context(), Domain.SECURITY)
    assert recorder.history == []


def test_an_unreachable_server_fails_issue_closed() -> None:
    # The clock is pinned to the contexts' T0 so the deadline is in the future
    # whatever day the suite runs on.
    broker = VaultBroker(NOWHERE, VaultAuth(token="t"), clock=lambda: T0)
    with pytest.raises(BrokerUnavailable, match="unreachable"):
        broker.issue(context(), Domain.NETWORK)
    assert broker.leases("inv-1") == []


def test_a_missing_control_plane_token_is_refused_rather_than_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VAULT_TOKEN", "hvs.from-the-environment-not-ours")
    broker = VaultBroker(NOWHERE, VaultAuth(token=""))
    with pytest.raises(AccessDenied, match="NIGHTSHIFT_VAULT_TOKEN"):
        broker.check_available()


def test_clients_never_pick_up_vault_token_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VAULT_TOKEN", "hvs.from-the-environment-not-ours")
    monkeypatch.setenv("VAULT_ADDR", "http://elsewhere:8200")
    client = NOWHERE.client()
    assert not client.token
    assert client.url == "http://127.0.0.1:9"


def test_the_auth_token_is_not_in_its_repr() -> None:
    assert "s3cr3t-token" not in repr(VaultAuth(token="s3cr3t-token"))


def test_the_transit_signer_down_is_unavailable_not_a_forgery() -> None:
    signer = TransitSigner(NOWHERE, VaultAuth(token="t0ken-value"), key="nightshift-audit")
    with pytest.raises(SignerUnavailable, match="unreachable") as refused:
        signer.sign(b"head")
    with pytest.raises(SignerUnavailable):
        signer.verify(b"head", "vault:v1:AAAA")
    assert "t0ken-value" not in str(refused.value)


def test_the_transit_signer_without_a_token_says_so() -> None:
    signer = TransitSigner(NOWHERE, VaultAuth(token=""), key="nightshift-audit")
    with pytest.raises(SignerUnavailable, match="NIGHTSHIFT_VAULT_TOKEN"):
        signer.sign(b"head")
