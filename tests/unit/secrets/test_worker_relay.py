"""Which brokers relay the worker's reads through the control plane is a
capability (RelaysWorkerReads), not a test for one class: any broker that has
it is relayed, any broker without it is refused with the reason."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from nightshift.domain.access import Caller
from nightshift.domain.vocabulary import Domain, PrincipalKind
from nightshift.secrets.fake import FakeSecretBroker
from nightshift.secrets.local import LocalBroker
from nightshift.secrets.protocol import Credential, HandoffRefused, RelaysWorkerReads
from nightshift.secrets.vault import VaultBroker
from nightshift.services.credentials import CredentialService
from nightshift.services.errors import Forbidden
from nightshift.store.database import Database
from tests.unit.secrets.conftest import ManualClock, context

WORKER = Caller("worker-inv-1", PrincipalKind.SERVICE, frozenset(), investigation_id="inv-1")
OTHER = Caller("worker-inv-2", PrincipalKind.SERVICE, frozenset(), investigation_id="inv-2")


class _Grant:
    def __init__(self, investigation_id: str, token: str) -> None:
        self.investigation_id = investigation_id
        self.token = token


class RelayingFake(FakeSecretBroker):
    """The fake broker given the capability: one code, one grant, one secret."""

    def redeem_handoff(self, code: str, investigation_id: str) -> _Grant:  # type: ignore[override]
        if code != "code-1":
            raise HandoffRefused("hand-off code unknown or already redeemed")
        return _Grant("inv-1", "grant-1")

    def read_with_grant(
        self, grant_token: str, domain: Domain, *, source: str = "default"
    ) -> Credential:
        if grant_token != "grant-1":
            raise HandoffRefused("unknown grant")
        return self.issue(context(), domain, source=source)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    found = Database(f"sqlite:///{tmp_path / 'unused.db'}")  # redeem and read touch no table
    yield found
    found.dispose()


def test_the_local_broker_relays_and_the_vault_and_plain_fake_brokers_do_not() -> None:
    assert issubclass(LocalBroker, RelaysWorkerReads)
    assert not issubclass(VaultBroker, RelaysWorkerReads)
    assert not isinstance(FakeSecretBroker(), RelaysWorkerReads)
    assert isinstance(RelayingFake(), RelaysWorkerReads)


def test_any_broker_with_the_capability_is_relayed_for_its_own_worker(db: Database) -> None:
    secrets = {(Domain.NETWORK, "default"): {"api_token": "relay-tok-5d2e"}}
    broker = RelayingFake(secrets, clock=ManualClock())
    service = CredentialService(db, broker, "fake")
    grant = service.redeem("inv-1", WORKER, "code-1")
    assert grant == "grant-1"
    secret = service.read("inv-1", WORKER, grant, Domain.NETWORK, "default")
    assert secret == {"api_token": "relay-tok-5d2e"}
    with pytest.raises(Forbidden, match="hand-off code unknown"):
        service.redeem("inv-1", WORKER, "code-2")
    with pytest.raises(Forbidden, match="only this investigation's worker"):
        service.read("inv-1", OTHER, grant, Domain.NETWORK, "default")


def test_a_broker_without_the_capability_sends_the_worker_to_its_backend(db: Database) -> None:
    service = CredentialService(db, FakeSecretBroker(), "fake")
    with pytest.raises(Forbidden, match="unwrap with Vault"):
        service.redeem("inv-1", WORKER, "code-1")
    with pytest.raises(Forbidden, match="read from Vault"):
        service.read("inv-1", WORKER, "grant-1", Domain.NETWORK, "default")


def test_a_worker_reads_all_its_credentials_at_once_null_where_none_is_stored(
    db: Database,
) -> None:
    secrets = {
        (Domain.NETWORK, "default"): {"api_token": "relay-tok-5d2e"},
        (Domain.DATABASE, "replica"): {"password": "relay-pw-91ab"},
    }
    service = CredentialService(db, RelayingFake(secrets, clock=ManualClock()), "fake")
    keys = [(Domain.NETWORK, "default"), (Domain.DATABASE, "default"), (Domain.DATABASE, "replica")]
    assert service.read_many("inv-1", WORKER, "grant-1", keys) == [
        {"api_token": "relay-tok-5d2e"},
        None,
        {"password": "relay-pw-91ab"},
    ]
    # one refusal refuses them all: nothing is handed out beside it
    with pytest.raises(Forbidden, match="out of scope"):
        service.read_many("inv-1", WORKER, "grant-1", [*keys, (Domain.APPLICATION, "default")])
    with pytest.raises(Forbidden, match="unknown grant"):
        service.read_many("inv-1", WORKER, "grant-2", keys)
    with pytest.raises(Forbidden, match="only this investigation's worker"):
        service.read_many("inv-1", OTHER, "grant-1", keys)
