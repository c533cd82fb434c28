"""A real control plane (``nightshift up``) with an alert sender, a routing rule,
and, when the Debian package is installed, a real Alertmanager."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from nightshift.bootstrap import build_container
from nightshift.domain.vocabulary import PrincipalKind, Role
from nightshift.settings import Settings
from tests.support import alertmanager
from tests.support.control_plane import TEST_SOURCES
from tests.support.postgres import BACKENDS, database_for
from tests.support.server import ControlPlane


class AlertPlane(ControlPlane):
    sender_token: str = ""

    def provision_sender(self) -> None:
        settings = Settings(
            data_dir=self.data_dir,
            database_url=self.database_url,
            sources_file=self.data_dir / "sources.yaml",
        )
        container = build_container(settings)
        try:
            container.principals.create_user(
                "alertmanager", kind=PrincipalKind.SERVICE, roles=frozenset({Role.ALERT_SENDER})
            )
            self.sender_token = container.principals.create_token("alertmanager")
        finally:
            container.db.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return database_for(request, tmp_path / "nightshift.db", "alerts")


@pytest.fixture
def plane(tmp_path: Path, database_url: str) -> Iterator[AlertPlane]:
    sources = tmp_path / "sources.yaml"
    sources.write_text(TEST_SOURCES)  # free-form (alert) questions need a declared source
    env = {
        "NIGHTSHIFT_ALERTS_MAX_INVESTIGATIONS_PER_MINUTE": "5",
        "NIGHTSHIFT_SOURCES_FILE": str(sources),
    }
    p = AlertPlane(tmp_path, database_url, env_overrides=env)
    p.provision()
    p.provision_sender()
    p.start()
    with p.client() as admin:
        resp = admin.post(
            "/v1/alert-routes",
            json={
                "name": "paging",
                "agent": "triage",
                "tier": "multi-domain",
                "priority": 1,
                "matchers": ['severity=~"critical|page"', 'alertname!="Watchdog"'],
                "group_by": ["namespace"],
            },
        )
        assert resp.status_code == 201, resp.text
    yield p
    p.stop()


@pytest.fixture
def require_alertmanager() -> None:
    reason = alertmanager.available()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
