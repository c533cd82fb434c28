from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from nightshift.domain.vocabulary import PrincipalKind, Role
from tests.support.control_plane import World, make_world


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = make_world(tmp_path)
    w.container.principals.create_user(
        "ci-pipeline", kind=PrincipalKind.SERVICE, roles=frozenset({Role.CHANGE_SENDER})
    )
    w.tokens["sender"] = w.container.principals.create_token("ci-pipeline")
    yield w
    w.container.db.dispose()
