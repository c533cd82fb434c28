"""A throwaway PostgreSQL server for the integration suite.

scripts/test installs the Debian package; this module only starts a private
cluster under a temp dir, on 127.0.0.1 and a free port, and removes it after.
The server refuses to run as root, so when we are root it runs as `postgres`.
"""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # bench imports this module without pytest's plugins
    import pytest


def _pg_bin(name: str) -> str | None:
    for base in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (base / name).exists():
            return str(base / name)
    return shutil.which(name)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class PostgresServer:
    directory: Path
    port: int

    @property
    def admin_dsn(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def sqlalchemy_url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.admin_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.sqlalchemy_url(name)


def _as_postgres(cmd: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return cmd
    return ["runuser", "-u", "postgres", "--", *cmd]


def available() -> str | None:
    """None when a server can be started, else why not."""
    if _pg_bin("initdb") is None or _pg_bin("pg_ctl") is None:
        return "PostgreSQL server binaries not installed (scripts/test installs them)"
    return None


def start(max_connections: int = 300, extra_options: str = "") -> PostgresServer:
    """``extra_options``: more ``-c name=value`` server settings (e.g. a preload library)."""
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    assert initdb and pg_ctl, available()
    directory = Path(tempfile.mkdtemp(prefix="nightshift-pg-"))
    data = directory / "data"
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
        os.chmod(directory, 0o755)  # noqa: S103 - postgres must traverse it
    subprocess.run(
        _as_postgres([initdb, "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync"]),
        check=True,
        capture_output=True,
    )
    port = free_port()
    opts = (
        f"-p {port} -k {directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        f" -c max_connections={max_connections} {extra_options}"
    ).rstrip()
    subprocess.run(
        _as_postgres(
            [pg_ctl, "-D", str(data), "-o", opts, "-l", str(directory / "log"), "-w", "start"]
        ),
        check=True,
        capture_output=True,
    )
    return PostgresServer(directory=directory, port=port)


def stop(server: PostgresServer) -> None:
    pg_ctl = _pg_bin("pg_ctl")
    assert pg_ctl
    subprocess.run(
        _as_postgres([pg_ctl, "-D", str(server.directory / "data"), "-m", "immediate", "stop"]),
        check=False,
        capture_output=True,
    )
    shutil.rmtree(server.directory, ignore_errors=True)


def restart(server: PostgresServer) -> None:
    """Stop (fast: every connection is cut) and start again on the same port and data.
    The server logs to its file, as at start: on our pipes it would hold them open."""
    pg_ctl = _pg_bin("pg_ctl")
    assert pg_ctl
    subprocess.run(
        _as_postgres([pg_ctl, "-D", str(server.directory / "data"), "-l",
                      str(server.directory / "log"), "-m", "fast", "-w", "restart"]),
        check=True,
        capture_output=True,
    )  # fmt: skip


BACKENDS = ("sqlite", "postgres")  # the params of a suite's ``database_url`` fixture
_databases = itertools.count()


def database_for(request: pytest.FixtureRequest, sqlite_file: Path, prefix: str) -> str:
    """The URL for the backend ``request.param`` names: ``sqlite_file``, or a new
    database on the session's PostgreSQL (the ``pg_server`` fixture)."""
    if request.param == "sqlite":
        return f"sqlite:///{sqlite_file}"
    server: PostgresServer = request.getfixturevalue("pg_server")
    return server.create_database(f"{prefix}_{next(_databases)}")
