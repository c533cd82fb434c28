"""Console sessions: sign-in with an API token, one-time links, logout, revocation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import update

from nightshift.domain.vocabulary import PrincipalKind, Role
from nightshift.services.errors import Invalid
from nightshift.store.tables import ApiTokenRow
from tests.support.control_plane import World, make_world


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = make_world(tmp_path)
    yield w
    w.container.db.dispose()


def test_a_valid_token_opens_a_session_with_the_users_roles(world: World) -> None:
    svc = world.container.console_sessions
    opened = svc.sign_in(world.tokens["operator"])
    found = svc.authenticate(opened.secret)
    assert found is not None
    assert found.caller.name == "operator"
    assert found.caller.has(Role.OPERATOR) and not found.caller.has(Role.OPS_LEAD)
    assert found.csrf == opened.session.csrf and len(found.csrf) >= 32
    assert world.tokens["operator"] not in opened.secret


def test_bad_tokens_open_nothing(world: World) -> None:
    svc = world.container.console_sessions
    for bad in ("", "nsh_not-a-real-token", "Bearer x", "nsh_" + "a" * 200):
        with pytest.raises(Invalid):
            svc.sign_in(bad)


def test_service_tokens_may_not_sign_in(world: World) -> None:
    p = world.container.principals
    p.create_user("ci", kind=PrincipalKind.SERVICE, roles=frozenset({Role.OPERATOR}))
    with pytest.raises(Invalid, match="for people"):
        world.container.console_sessions.sign_in(p.create_token("ci"))


def test_logout_ends_the_session(world: World) -> None:
    svc = world.container.console_sessions
    opened = svc.sign_in(world.tokens["viewer"])
    svc.sign_out(opened.secret)
    assert svc.authenticate(opened.secret) is None


def test_revoking_the_api_token_ends_its_sessions(world: World) -> None:
    svc = world.container.console_sessions
    opened = svc.sign_in(world.tokens["lead"])
    with world.container.db.transaction() as s:
        s.execute(update(ApiTokenRow).values(revoked_at=ApiTokenRow.created_at))
    assert svc.authenticate(opened.secret) is None


def test_deactivating_the_user_ends_the_session(world: World) -> None:
    svc = world.container.console_sessions
    opened = svc.sign_in(world.tokens["viewer"])
    world.container.principals.set_active("viewer", False)
    assert svc.authenticate(opened.secret) is None


def test_a_sign_in_link_works_once(world: World) -> None:
    svc = world.container.console_sessions
    link = svc.issue_link("lead", ttl_seconds=60)
    opened = svc.redeem_link(link)
    found = svc.authenticate(opened.secret)
    assert found is not None and found.caller.name == "lead"
    with pytest.raises(Invalid, match="already used"):
        svc.redeem_link(link)
    assert svc.authenticate(link) is None  # a link is not itself a session


def test_link_lifetime_is_bounded(world: World) -> None:
    svc = world.container.console_sessions
    with pytest.raises(Invalid, match="ttl_seconds"):
        svc.issue_link("lead", ttl_seconds=3600)
