"""A throwaway VictoriaLogs server: the real log store of the logs_search tests.

scripts/victorialogs-test-env builds the binary from the Go module proxy and caches
it (scripts/test runs it); this module starts it on 127.0.0.1 and a free port with
its data under a temp dir, and ships logs to it through its Loki-compatible push
API, as a promtail or an agent in a cluster would.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support.postgres import free_port
from tests.support.processes import end

VERSION = os.environ.get("VICTORIALOGS_VERSION", "v1.52.1")
STREAM_FIELDS = "namespace,app,pod"
PUSH_PATH = "/insert/loki/api/v1/push"


def binary() -> Path:
    explicit = os.environ.get("NIGHTSHIFT_VICTORIALOGS_BIN")
    if explicit:
        return Path(explicit) / "victoria-logs"
    root = Path(
        os.environ.get(
            "NIGHTSHIFT_VICTORIALOGS_CACHE", Path.home() / ".cache" / "nightshift" / "victorialogs"
        )
    )
    return root / VERSION / "bin" / "victoria-logs"


def available() -> str | None:
    """None when a server can be started, else why not."""
    if not os.access(binary(), os.X_OK):
        return f"VictoriaLogs {VERSION} not built at {binary()} (run scripts/victorialogs-test-env)"
    return None


def require_available() -> None:
    """For benchmarks: a clear error when the binary is missing."""
    reason = available()
    if reason:
        raise RuntimeError(reason)


def require() -> None:
    """Skip outside CI, fail in CI, when the binary is missing."""
    reason = available()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)


@dataclass
class VictoriaLogs:
    url: str
    directory: Path
    process: subprocess.Popen[bytes]
    auth: tuple[str, str] | None = None  # -httpAuth.username / -httpAuth.password

    def push(
        self,
        labels: Mapping[str, str],
        entries: Iterable[tuple[int, str]],
        *,
        client: httpx.Client | None = None,
        parse_json: bool = True,
        account_id: int = 0,
    ) -> None:
        """One stream's ``(ts_ns, line)`` entries through the Loki push API."""
        self.push_streams(
            [(labels, list(entries))], client=client, parse_json=parse_json, account_id=account_id
        )

    def push_streams(
        self,
        streams: Sequence[tuple[Mapping[str, str], Sequence[tuple[int, str]]]],
        *,
        client: httpx.Client | None = None,
        parse_json: bool = True,
        account_id: int = 0,
    ) -> None:
        """``account_id`` is the tenant (VictoriaLogs' ``AccountID`` header);
        ``parse_json=False`` keeps JSON lines whole in ``_msg`` (the store's Loki
        push API parses them into fields by default)."""
        params = {"_stream_fields": STREAM_FIELDS}
        if not parse_json:
            params["disable_message_parsing"] = "1"
        body = {
            "streams": [
                {"stream": dict(labels), "values": [[str(ts), line] for ts, line in entries]}
                for labels, entries in streams
            ]
        }
        own = client or httpx.Client(timeout=60, auth=self.auth)
        try:
            response = own.post(
                f"{self.url}{PUSH_PATH}",
                params=params,
                content=json.dumps(body),
                headers={"Content-Type": "application/json", "AccountID": str(account_id)},
            )
            response.raise_for_status()
        finally:
            if client is None:
                own.close()

    def flush(self) -> None:
        """Make everything pushed so far searchable (the store buffers ingested
        rows for about a second; its /internal/force_flush endpoint skips the wait)."""
        httpx.get(f"{self.url}/internal/force_flush", timeout=30, auth=self.auth).raise_for_status()

    def stop(self) -> None:
        end(self.process, grace=15)
        shutil.rmtree(self.directory, ignore_errors=True)


def start(timeout_seconds: float = 30.0, auth: tuple[str, str] | None = None) -> VictoriaLogs:
    directory = Path(tempfile.mkdtemp(prefix="nightshift-vl-"))
    port = free_port()
    log = (directory / "victoria-logs.log").open("wb")
    process = subprocess.Popen(
        [
            str(binary()),
            f"-storageDataPath={directory / 'data'}",
            f"-httpListenAddr=127.0.0.1:{port}",
            "-retentionPeriod=30d",
            "-loggerLevel=WARN",
            *([f"-httpAuth.username={auth[0]}", f"-httpAuth.password={auth[1]}"] if auth else []),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()
    server = VictoriaLogs(f"http://127.0.0.1:{port}", directory, process, auth)
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = (directory / "victoria-logs.log").read_text(errors="replace")[-2000:]
            server.stop()
            raise RuntimeError(f"victoria-logs exited with {process.returncode}: {output}")
        try:
            if httpx.get(f"{server.url}/health", timeout=1, auth=auth).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"victoria-logs not ready on {server.url}/health in {timeout_seconds} s")


@contextmanager
def running(auth: tuple[str, str] | None = None) -> Iterator[VictoriaLogs]:
    server = start(auth=auth)
    try:
        yield server
    finally:
        server.stop()
