"""A throwaway Alertmanager (the Debian package's binary) for integration tests.

scripts/setup-dev installs ``prometheus-alertmanager``; this module runs it on
127.0.0.1 and a free port, clustering off, state in a temp dir. The config has
one route to one receiver: a webhook at the URL the caller gives (with a bearer
token when asked, as Nightshift's alert intake expects), or no receiver at all
when the test only reads the API. Alerts can be posted straight to its API v2.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import yaml

from tests.support.postgres import free_port
from tests.support.processes import end, wait_ready

BINARY = "prometheus-alertmanager"


@dataclass
class AlertmanagerServer:
    directory: Path
    port: int
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def target(self) -> str:
        """host:port, as Prometheus' alerting config names it."""
        return f"127.0.0.1:{self.port}"

    def post(self, alerts: Sequence[Mapping[str, Any]], batch: int = 1000) -> None:
        """POST alerts to /api/v2/alerts (in batches, as Prometheus does)."""
        with httpx.Client(base_url=self.url, timeout=30) as client:
            for i in range(0, len(alerts), batch):
                answer = client.post("/api/v2/alerts", json=list(alerts[i : i + batch]))
                answer.raise_for_status()

    def alerts(self) -> list[dict[str, Any]]:
        answer = httpx.get(f"{self.url}/api/v2/alerts", timeout=30)
        answer.raise_for_status()
        result: list[dict[str, Any]] = answer.json()
        return result

    def wait_for_alerts(self, count: int, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.alerts()) >= count:
                return
            time.sleep(0.2)
        raise TimeoutError(f"Alertmanager did not hold {count} alerts within {timeout:g} s")

    def log(self) -> str:
        path = self.directory / "alertmanager.log"
        return path.read_text(errors="replace") if path.exists() else ""


def alert(
    name: str,
    labels: Mapping[str, str] | None = None,
    *,
    started_minutes_ago: float = 5.0,
    summary: str = "",
    description: str = "",
    now: datetime | None = None,
) -> dict[str, Any]:
    """One alert in API v2's postable form (firing for an hour from now)."""
    now = now or datetime.now(UTC)
    annotations = {k: v for k, v in (("summary", summary), ("description", description)) if v}
    return {
        "labels": {"alertname": name, **(labels or {})},
        "annotations": annotations,
        "startsAt": (now - timedelta(minutes=started_minutes_ago)).isoformat(),
        "endsAt": (now + timedelta(hours=1)).isoformat(),
        "generatorURL": "http://prometheus.test/graph",
    }


def available() -> str | None:
    """None when a server can be started, else why not."""
    if shutil.which(BINARY) is None:
        return "prometheus-alertmanager is not installed (scripts/setup-dev installs it)"
    return None


def config(
    webhook_url: str | None = None,
    *,
    bearer_token: str | None = None,
    group_by: Iterable[str] = ("alertname",),
    group_wait: str = "1s",
    group_interval: str = "1s",
    repeat_interval: str = "1h",
) -> dict[str, Any]:
    receiver: dict[str, Any] = {"name": "nightshift"}
    if webhook_url:
        hook: dict[str, Any] = {"url": webhook_url, "send_resolved": True}
        if bearer_token:
            hook["http_config"] = {"authorization": {"type": "Bearer", "credentials": bearer_token}}
        receiver["webhook_configs"] = [hook]
    return {
        "route": {
            "receiver": "nightshift",
            "group_by": list(group_by),
            "group_wait": group_wait,
            "group_interval": group_interval,
            "repeat_interval": repeat_interval,
        },
        "receivers": [receiver],
    }


def start(
    webhook_url: str | None = None,
    *,
    bearer_token: str | None = None,
    group_by: Iterable[str] = ("alertname",),
    group_wait: str = "1s",
    group_interval: str = "1s",
    repeat_interval: str = "1h",
    timeout: float = 30.0,
) -> AlertmanagerServer:
    assert available() is None, available()
    directory = Path(tempfile.mkdtemp(prefix="nightshift-am-"))
    cfg = config(
        webhook_url,
        bearer_token=bearer_token,
        group_by=group_by,
        group_wait=group_wait,
        group_interval=group_interval,
        repeat_interval=repeat_interval,
    )
    (directory / "alertmanager.yml").write_text(yaml.safe_dump(cfg))
    port = free_port()
    log = (directory / "alertmanager.log").open("wb")
    process = subprocess.Popen(
        [
            BINARY,
            f"--config.file={directory / 'alertmanager.yml'}",
            f"--storage.path={directory / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
            "--log.level=warn",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()
    server = AlertmanagerServer(directory, port, process)
    try:
        _wait_ready(server, timeout)
    except BaseException:  # never leave a server behind a failed start
        stop(server)
        raise
    return server


def _wait_ready(server: AlertmanagerServer, timeout: float) -> None:
    def ready() -> bool:
        return httpx.get(f"{server.url}/-/ready", timeout=1).status_code == 200

    wait_ready("alertmanager", server.process, ready, server.log, timeout)


def stop(server: AlertmanagerServer) -> None:
    end(server.process)
    shutil.rmtree(server.directory, ignore_errors=True)
