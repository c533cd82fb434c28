from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.server import ControlPlane

_names = itertools.count()


@pytest.fixture
def make_plane(tmp_path: Path) -> Iterator[object]:
    planes: list[ControlPlane] = []

    def make(**env: str) -> ControlPlane:
        plane = ControlPlane(tmp_path, f"sqlite:///{tmp_path / 'nightshift.db'}", env_overrides=env)
        plane.provision()
        planes.append(plane)
        return plane

    yield make
    for plane in planes:
        plane.stop()
