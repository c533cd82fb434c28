"""A real PgBouncer (Debian package ``pgbouncer``) on 127.0.0.1 in front of a
test PostgreSQL, with md5 auth from an auth_file written here and a tiny pool,
so clients queue for a server connection the way they do in an incident.
PgBouncer refuses to run as root, so as root it runs as ``postgres``."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from tests.support.postgres import free_port
from tests.support.processes import end

STATS_USER = "nightshift_monitor"
STATS_PASSWORD = "stats-pass"


def binary() -> str | None:
    return shutil.which("pgbouncer") or (
        "/usr/sbin/pgbouncer" if Path("/usr/sbin/pgbouncer").exists() else None
    )


def available() -> str | None:
    if binary() is None:
        return "pgbouncer not installed (scripts/setup-dev installs the Debian package)"
    return None


@dataclass
class PgBouncer:
    directory: Path
    port: int
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"postgresql://127.0.0.1:{self.port}"


def start(pg_port: int, database: str, user: str, pool_size: int = 2) -> PgBouncer:
    exe = binary()
    assert exe, available()
    directory = Path(tempfile.mkdtemp(prefix="nightshift-pgbouncer-"))
    port = free_port()
    # The app user's server-side auth is trust (the test cluster), so its
    # auth_file password only gates the client side.
    (directory / "userlist.txt").write_text(
        f'"{STATS_USER}" "{STATS_PASSWORD}"\n"{user}" "app-pass"\n', encoding="utf-8"
    )
    (directory / "pgbouncer.ini").write_text(
        "\n".join(
            [
                "[databases]",
                f"{database} = host=127.0.0.1 port={pg_port} dbname={database} user={user}",
                "[pgbouncer]",
                "listen_addr = 127.0.0.1",
                f"listen_port = {port}",
                "unix_socket_dir =",
                "auth_type = md5",
                f"auth_file = {directory / 'userlist.txt'}",
                f"stats_users = {STATS_USER}",
                "pool_mode = session",
                f"default_pool_size = {pool_size}",
                "max_client_conn = 100",
                f"logfile = {directory / 'pgbouncer.log'}",
                "ignore_startup_parameters = extra_float_digits",
                "",
            ]
        ),
        encoding="utf-8",
    )
    cmd = [exe, str(directory / "pgbouncer.ini")]
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
        for child in directory.iterdir():
            shutil.chown(child, "postgres", "postgres")
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            err = process.stderr.read().decode() if process.stderr else ""
            raise RuntimeError(f"pgbouncer exited: {err}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return PgBouncer(directory, port, process)
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("pgbouncer did not start listening within 10 s")


def stop(bouncer: PgBouncer) -> None:
    end(bouncer.process, grace=5)
    if bouncer.process.stderr:
        bouncer.process.stderr.close()
    shutil.rmtree(bouncer.directory, ignore_errors=True)


class Clients:
    """Application clients through the pooler, each holding or wanting a server."""

    def __init__(self, bouncer: PgBouncer, user: str = "checkout") -> None:
        self.dsn = f"postgresql://{user}:app-pass@127.0.0.1:{bouncer.port}/orders"
        self.connections: list[psycopg.Connection[Any]] = []
        self.threads: list[threading.Thread] = []
        self.lock = threading.Lock()

    def hold(self, n: int) -> None:
        for _ in range(n):
            conn = psycopg.connect(self.dsn, prepare_threshold=None)
            conn.execute("SELECT 1")  # session pooling: the server stays with this client
            self.connections.append(conn)

    def want(self, n: int) -> None:
        def run() -> None:
            with suppress(psycopg.Error):
                conn = psycopg.connect(self.dsn, prepare_threshold=None, connect_timeout=20)
                with self.lock:
                    self.connections.append(conn)
                conn.execute("SELECT 1")

        for _ in range(n):
            thread = threading.Thread(target=run, daemon=True)
            thread.start()
            self.threads.append(thread)

    def release(self) -> None:
        for conn in list(self.connections):
            conn.close()
        for thread in self.threads:
            thread.join(timeout=10)
        for conn in list(self.connections):
            conn.close()
        # released clients are gone: the next hold/want starts afresh
        self.connections.clear()
        self.threads.clear()
