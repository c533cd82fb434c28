from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from nightshift.api.app import create_app
from tests.support.control_plane import World, make_world
from tests.support.postgres import free_port


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = make_world(tmp_path, max_running=8, max_running_per_agent=8, queue_capacity=50)
    yield w
    w.container.db.dispose()


@pytest.fixture
def live(world: World) -> Iterator[str]:
    """The control plane on a loopback port, for the CLI."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(world.container, background=False),
            port=port,
            log_level="error",
            lifespan="off",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.01)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(5)
