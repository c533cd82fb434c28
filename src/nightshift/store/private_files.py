"""Files only the control plane's user may read: its data directory (0700),
the database and the admin token (0600), whatever the umask, and tightened
when they already exist with looser modes (an older install, a copied file)."""

from __future__ import annotations

import os
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) and make it 0700."""
    path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    os.chmod(path, DIR_MODE)
    return path


def private_file(path: Path) -> Path:
    """Create ``path`` empty if missing and make it 0600, before anything is
    written to it: SQLite gives its WAL and shared-memory files the same mode."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
    finally:
        os.close(fd)
    return path


def write_private(path: Path, text: str) -> Path:
    """Write ``text`` to a 0600 file (an existing file's mode is tightened first)."""
    private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(fd, "w") as fh:
        os.fchmod(fh.fileno(), FILE_MODE)
        fh.write(text)
    return path
