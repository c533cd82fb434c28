"""Per-investigation logs: JSON lines tagged with the investigation, readable on
their own through the API, removed after the retention period."""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path

from fastapi.testclient import TestClient

from nightshift.observability.jsonlog import JsonLineFormatter
from nightshift.observability.redaction import Redactor
from nightshift.runtime.executors.local import LocalExecutor
from nightshift.runtime.executors.protocol import WorkerExit
from nightshift.settings import Settings
from tests.support.control_plane import World
from tests.support.in_process_worker import run, submit

DAY = 86400.0


def _ignore(_: WorkerExit) -> None:
    return None


def test_worker_log_lines_are_json_tagged_with_the_investigation_and_redacted() -> None:
    formatter = JsonLineFormatter("inv-42", Redactor(["hunter2"]))
    record = logging.LogRecord(
        "nightshift.worker", logging.INFO, __file__, 1, "token is %s", ("hunter2",), None
    )
    line = json.loads(formatter.format(record))
    assert line["investigation"] == "inv-42"
    assert line["level"] == "info"
    assert "hunter2" not in line["msg"]


def test_logs_older_than_the_retention_period_are_purged(tmp_path: Path) -> None:
    executor = LocalExecutor(tmp_path / "logs", _ignore)
    old, fresh = executor.log_path("old-inv"), executor.log_path("fresh-inv")
    old.write_text('{"msg": "old"}\n')
    fresh.write_text('{"msg": "fresh"}\n')
    long_ago = time.time() - 31 * DAY
    os.utime(old, (long_ago, long_ago))
    retention_days = Settings(data_dir=tmp_path).log_retention_days
    assert retention_days == 30
    assert executor.purge_logs(retention_days * DAY) == 1
    assert executor.read_log("old-inv") is None
    assert executor.read_log("fresh-inv") == '{"msg": "fresh"}\n'


def test_the_retention_period_is_a_setting(tmp_path: Path) -> None:
    assert Settings(data_dir=tmp_path, log_retention_days=7).log_retention_days == 7


def test_an_investigations_log_and_events_are_retrievable_on_their_own(
    client: TestClient, world: World
) -> None:
    r = run(client, world, submit(client, world, "two-am-cascade"))
    log = client.get(f"/v1/investigations/{r.inv_id}/logs", headers=world.auth("viewer"))
    assert log.status_code == 200
    assert r.inv_id in log.text
    events = client.get(
        f"/v1/investigations/{r.inv_id}/events?follow=false", headers=world.auth("viewer")
    )
    kinds = [
        json.loads(line[5:])["kind"]
        for line in events.text.splitlines()
        if line.startswith("data:")
    ]
    assert kinds.count("tool.answered") == r.result["tool_calls"]
    assert kinds[-1] == "status"
