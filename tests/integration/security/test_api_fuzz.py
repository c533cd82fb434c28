"""Schemathesis over every operation of the OpenAPI document, against the real
app on a real SQLite database: generated requests (valid and invalid) as an
admin, and the worker operations with a worker token. No request may get a
5xx, and every response must have a declared status and match its declared
schema. Bounded for CI by NIGHTSHIFT_FUZZ_EXAMPLES per operation (default
10); set it higher for a longer run."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from nightshift.api.app import create_app
from tests.support.control_plane import make_world

EXAMPLES = int(os.environ.get("NIGHTSHIFT_FUZZ_EXAMPLES", "10"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]  # fmt: skip


class Fuzzed:
    """The app under test, built once when the module is collected (schemathesis
    needs the schema then), on a real SQLite database in a temp dir."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="nightshift-fuzz-"))
        self.world = make_world(self.dir)
        self.app = create_app(self.world.container, background=False)
        self.requests = 0
        self.worker_inv, self.worker_token = "", ""

    def start(self, client: TestClient) -> None:
        inv = client.post(
            "/v1/investigations",
            json={"agent": "triage", "title": "checkout latency above SLO"},
            headers=self.world.auth("operator"),
        ).json()["id"]
        self.world.container.dispatcher.dispatch_once()
        launches = self.world.executor.launches
        self.worker_inv = inv
        self.worker_token = next(x.token for x in launches if x.investigation_id == inv)


FUZZED = Fuzzed()
schema = schemathesis.openapi.from_asgi("/openapi.json", FUZZED.app)


@pytest.fixture(scope="module")
def fuzzed() -> Iterator[Fuzzed]:
    with TestClient(FUZZED.app) as client:
        FUZZED.start(client)
        yield FUZZED
        print(f"\nAPI fuzz: {FUZZED.requests} requests, no 5xx, no undeclared status")
    FUZZED.world.container.db.dispose()
    shutil.rmtree(FUZZED.dir, ignore_errors=True)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    database=None,
)
def test_no_operation_answers_5xx_or_off_its_schema(case: Any, fuzzed: Fuzzed) -> None:
    if "/worker/" in case.path or case.path.endswith("/worker"):
        token = fuzzed.worker_token
        if case.path_parameters and "inv_id" in case.path_parameters:
            case.path_parameters["inv_id"] = fuzzed.worker_inv
    else:
        token = fuzzed.world.tokens["admin"]
    fuzzed.requests += 1
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)


def test_the_fuzzed_schema_covers_every_operation() -> None:
    spec = TestClient(FUZZED.app).get("/openapi.json").json()
    ops = [(m, p) for p, item in spec["paths"].items() for m in item]
    assert len(list(schema.get_all_operations())) == len(ops) >= 50
