"""The control plane's files are its own: the data directory is 0700 and the
database and the CLI's admin token are 0600, whatever the umask, so another
user on the machine reads none of them."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from nightshift.cli.client import save_token
from nightshift.settings import Settings
from tests.support.control_plane import TEST_SOURCES, make_world


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def loose_umask() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def test_a_new_data_directory_and_its_database_are_private(
    tmp_path: Path, loose_umask: None
) -> None:
    data = tmp_path / "data"
    sources = tmp_path / "sources.yaml"
    sources.write_text(TEST_SOURCES)
    world = make_world(data, sources_file=sources)
    world.container.db.engine.dispose()
    assert _mode(data) == 0o700
    files = [p for p in data.iterdir() if p.name.startswith("nightshift.db")]
    assert files, list(data.iterdir())
    for db_file in files:  # the database and its WAL and shared-memory files
        assert _mode(db_file) == 0o600, db_file


def test_an_existing_open_data_directory_is_tightened(tmp_path: Path, loose_umask: None) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    (data / "nightshift.db").touch(mode=0o644)
    make_world(data)
    assert _mode(data) == 0o700
    assert _mode(data / "nightshift.db") == 0o600


def test_the_cli_token_is_0600_even_over_a_readable_file(tmp_path: Path, loose_umask: None) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    settings.data_dir.mkdir(mode=0o755)
    old = settings.data_dir / "cli-token"
    old.write_text("stale\n")
    old.chmod(0o644)
    path = save_token(settings, "nst_example")
    assert _mode(path) == 0o600
    assert _mode(settings.data_dir) == 0o700
