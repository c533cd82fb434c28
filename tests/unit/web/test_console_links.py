"""One-time console sign-in links from the CLI (what scripts/demo prints): the
link opens one session and lands on the page it names, only on this server;
its secret is stored hashed and never logged."""

from __future__ import annotations

import logging
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from nightshift.cli.main import app
from nightshift.store.tables import ConsoleSessionRow
from nightshift.web.links import local_path
from tests.support.control_plane import World


@pytest.mark.parametrize(
    ("target", "kept"),
    [("/investigations/01abc", True), ("/audit?investigation=x", True),
     ("//evil.example/x", False), ("https://evil.example", False), ("/\\evil.example", False),
     ("evil", False), ("/a\nb", False), ("", False)],
)  # fmt: skip
def test_a_link_leads_only_to_a_path_on_this_server(target: str, kept: bool) -> None:
    assert (local_path(target) == target) is kept


def _link(world: World, monkeypatch: pytest.MonkeyPatch, *args: str) -> str:
    monkeypatch.setenv("NIGHTSHIFT_DATA_DIR", str(world.container.settings.data_dir))
    monkeypatch.setenv("NIGHTSHIFT_DATABASE_URL", world.container.settings.database_url)
    done = CliRunner().invoke(app, ["users", "sign-in-link", *args])
    assert done.exit_code == 0, done.output
    return done.output.strip()


def test_the_cli_link_signs_in_once_and_opens_the_named_page(
    client: TestClient,
    world: World,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    url = _link(world, monkeypatch, "operator", "--to", "/investigations/01abc", "--ttl", "60")
    parts = urlsplit(url)
    assert parts.path == "/login/link"
    secret = parse_qs(parts.query)["secret"][0]
    first = client.get(f"{parts.path}?{parts.query}", follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"] == "/investigations/01abc"
    assert "nightshift_console" in first.headers["set-cookie"]
    client.cookies.clear()
    again = client.get(f"{parts.path}?{parts.query}", follow_redirects=False)
    assert again.status_code == 401 and "set-cookie" not in again.headers
    with world.container.db.read() as s:
        stored = [(r.secret_hash, r.kind) for r in s.scalars(select(ConsoleSessionRow))]
    assert secret not in str(stored) and any(k == "link" for _, k in stored)
    # Never logged by the server (the test's own HTTP client logs the URLs it fetches).
    server = [r for r in caplog.records if not r.name.startswith("httpx")]
    assert server and all(secret not in r.getMessage() for r in server)


def test_a_link_to_another_site_lands_on_the_console(
    client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = world.container.console_sessions.issue_link("operator")
    resp = client.get(
        "/login/link", params={"secret": secret, "next": "//evil.example"}, follow_redirects=False
    )
    assert resp.status_code == 303 and resp.headers["location"] == "/investigations"
    refused = CliRunner().invoke(app, ["users", "sign-in-link", "operator", "--to", "//evil"])
    assert refused.exit_code == 2


def test_a_link_expires(client: TestClient, world: World) -> None:
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import update

    secret = world.container.console_sessions.issue_link("operator", ttl_seconds=60)
    with world.container.db.transaction() as s:
        s.execute(
            update(ConsoleSessionRow).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    resp = client.get("/login/link", params={"secret": secret}, follow_redirects=False)
    assert resp.status_code == 401
