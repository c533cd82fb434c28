"""Fixtures that start real services for the integration suite."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.support import postgres


@pytest.fixture(scope="session")
def pg_server() -> Iterator[postgres.PostgresServer]:
    """A real PostgreSQL server on 127.0.0.1 for the whole session.

    Skipped only outside CI when the binaries are missing; in CI
    (``CI=true``) a missing server is a failure, never a silent skip.
    """
    reason = postgres.available()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    server = postgres.start()
    try:
        yield server
    finally:
        postgres.stop(server)
