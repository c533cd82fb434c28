"""Real MCP server processes (the SDK's own server, tests/integration/mcp/ops_mcp_server.py)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.postgres import free_port

SERVER = Path(__file__).with_name("ops_mcp_server.py")


def _wait_for_port(port: int, proc: subprocess.Popen[bytes], deadline: float) -> None:
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the MCP test server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the MCP test server did not listen in time")


@pytest.fixture(scope="module")
def marks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the test server records every state-changing call it executed (a
    module's servers share one: no test of ours may ever let one write)."""
    path = tmp_path_factory.mktemp("mcp") / "marks.txt"
    path.write_text("", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def http_server(marks: Path) -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, str(SERVER), "http", str(port)],
        env={"OPS_MARKS": str(marks), "PATH": "/usr/bin:/bin"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_port(port, proc, time.monotonic() + 30)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="module")
def stdio_command(marks: Path) -> tuple[str, ...]:
    # env passes through the credential's keys only, so the marks path rides in argv
    return (sys.executable, str(SERVER), "stdio", str(marks))
