"""Starting and ending the real servers the tests launch as child processes."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from typing import Any

import httpx


def end(process: subprocess.Popen[Any], grace: float = 10.0) -> None:
    """Terminate, and kill what is still running after ``grace`` seconds."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_ready(
    name: str,
    process: subprocess.Popen[Any],
    ready: Callable[[], bool],
    log: Callable[[], str],
    timeout: float,
) -> None:
    """Until ``ready()`` (a refused connection means not yet). Raises, with the
    tail of its log, if the process exits first; raises when ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited at start-up:\n{log()[-2000:]}")
        try:
            if ready():
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{name} not ready within {timeout:g} s")
