"""A real ``nightshift up`` with a change sender and one held investigation whose
worker token the change-feed source uses (the token a dispatched worker would get)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from nightshift.bootstrap import build_container
from nightshift.domain.vocabulary import PrincipalKind, Role
from nightshift.services.principals import issue_worker_token
from nightshift.settings import Settings
from tests.support.server import ControlPlane


@dataclass
class FeedPlane:
    plane: ControlPlane
    sender_token: str
    investigation_id: str
    worker_token: str
    other_investigation_id: str
    alert_token: str

    def worker_token_for(self, investigation_id: str) -> str:
        container = build_container(_settings(self.plane))
        try:
            with container.db.transaction() as s:
                return issue_worker_token(
                    s, investigation_id, datetime.now(UTC) + timedelta(hours=1)
                )
        finally:
            container.db.dispose()


def _settings(plane: ControlPlane) -> Settings:
    return Settings(data_dir=plane.data_dir, database_url=plane.database_url)


@pytest.fixture(scope="module")
def feed_plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FeedPlane]:
    data: Path = tmp_path_factory.mktemp("feed-plane")
    plane = ControlPlane(data, f"sqlite:///{data / 'nightshift.db'}")
    plane.provision()
    container = build_container(_settings(plane))
    try:
        container.principals.create_user(
            "deployer", kind=PrincipalKind.SERVICE, roles=frozenset({Role.CHANGE_SENDER})
        )
        sender = container.principals.create_token("deployer")
        container.principals.create_user(
            "alertmanager", kind=PrincipalKind.SERVICE, roles=frozenset({Role.ALERT_SENDER})
        )
        alert_sender = container.principals.create_token("alertmanager")
        admin = container.principals.authenticate(plane.token)
        assert admin is not None
        # Held, never dispatched: the worker token stays valid for the whole module.
        container.stewardship.suspend("triage", admin, "change-feed tests read as its worker")
    finally:
        container.db.dispose()
    plane.start()
    try:
        with plane.client() as client:
            inv = plane.submit(client, title="checkout errors", scenario="two-am-cascade")["id"]
            other = plane.submit(client, title="another", scenario="two-am-cascade")["id"]
        feed = FeedPlane(plane, sender, inv, "", other, alert_sender)
        feed.worker_token = feed.worker_token_for(inv)
        yield feed
    finally:
        plane.stop()
