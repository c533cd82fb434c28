from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.control_plane import World, make_world


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = make_world(
        tmp_path,
        notify_async=False,
        oncall_contact="oncall@example.org",
        approval_rate_per_hour=3,
    )
    yield w
    w.container.db.dispose()
