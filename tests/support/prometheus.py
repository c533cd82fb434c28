"""A throwaway Prometheus server (the Debian package's binary) for integration tests.

scripts/setup-dev installs the package; this module writes a config that
scrapes the given targets every second (labels honoured, so one test exporter
can stand for many hosts and pods), optionally loads alerting rules and sends
alerts to an Alertmanager, and runs the server on 127.0.0.1 and a free port with
its TSDB in a temp dir.
"""

from __future__ import annotations

import shutil
import ssl
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from tests.support.listeners import self_signed
from tests.support.postgres import free_port
from tests.support.processes import end, wait_ready

BINARY = "prometheus"
# Basic auth for tests of credentials: the web config holds a bcrypt hash, made
# once (cost 4, so checking it is cheap) from this throwaway password.
TEST_USER = "nightshift"
TEST_PASSWORD = "nightshift-test-password"  # a throwaway for tests, not a secret
TEST_PASSWORD_HASH = "$2b$04$9V1wAA6VgTjSqWIvANXKiuW07PFZOkxpv.VsUcZ.KFMvAqHfSA3Ym"


@dataclass
class PrometheusServer:
    directory: Path
    port: int
    process: subprocess.Popen[bytes]
    targets: int = 0
    ca_file: Path | None = None  # set when serving TLS: the self-signed certificate

    @property
    def url(self) -> str:
        scheme = "https" if self.ca_file else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    def _client_verify(self) -> ssl.SSLContext | bool:
        return ssl.create_default_context(cafile=str(self.ca_file)) if self.ca_file else True

    def query(self, promql: str) -> list[dict[str, Any]]:
        """An instant query's result vector (for tests that wait on data)."""
        answer = httpx.get(
            f"{self.url}/api/v1/query",
            params={"query": promql},
            timeout=5,
            auth=(TEST_USER, TEST_PASSWORD),
            verify=self._client_verify(),
        )
        answer.raise_for_status()
        result: list[dict[str, Any]] = answer.json()["data"]["result"]
        return result

    def wait_for(self, promql: str, *, series: int = 1, timeout: float = 30.0) -> None:
        """Block until ``promql`` returns at least ``series`` series (scrapes are 1 s apart)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.query(promql)) >= series:
                return
            time.sleep(0.25)
        raise TimeoutError(f"no {series} series for {promql!r} within {timeout:g} s")

    def wait_for_scrape(self, timeout: float = 30.0) -> None:
        """Block until every target has been scraped once: Prometheus' service
        discovery hands targets over about 5 s after start, not at once."""
        self.wait_for("up == 1", series=self.targets, timeout=timeout)

    def log(self) -> str:
        path = self.directory / "prometheus.log"
        return path.read_text(errors="replace") if path.exists() else ""


def available() -> str | None:
    """None when a server can be started, else why not."""
    if shutil.which(BINARY) is None:
        return "the prometheus binary is not installed (scripts/setup-dev installs it)"
    return None


def config(
    targets: Sequence[str],
    *,
    scrape_interval: str = "1s",
    rule_files: Sequence[str] = (),
    alertmanager: str | None = None,
    bearer_token_file: str | None = None,
) -> dict[str, Any]:
    cfg: dict[str, Any] = {
        "global": {"scrape_interval": scrape_interval, "evaluation_interval": scrape_interval},
        "scrape_configs": [
            {
                "job_name": "test",
                "honor_labels": True,
                "static_configs": [{"targets": list(targets)}],
            }
        ],
    }
    if rule_files:
        cfg["rule_files"] = list(rule_files)
    if alertmanager:
        am: dict[str, Any] = {"static_configs": [{"targets": [alertmanager]}], "api_version": "v2"}
        if bearer_token_file:
            am["authorization"] = {"type": "Bearer", "credentials_file": bearer_token_file}
        cfg["alerting"] = {"alertmanagers": [am]}
    return cfg


def start(
    targets: Sequence[str] = (),
    *,
    scrape_interval: str = "1s",
    rules: str | None = None,
    alertmanager: str | None = None,
    alertmanager_token: str | None = None,
    basic_auth: bool = False,
    tls: bool = False,
    timeout: float = 30.0,
) -> PrometheusServer:
    """``rules``: the text of one alerting/recording rules file; ``alertmanager``:
    host:port to send alerts to (with ``alertmanager_token`` as a bearer token);
    ``basic_auth``: the API requires TEST_USER / TEST_PASSWORD; ``tls``: HTTPS
    with a self-signed certificate for 127.0.0.1 (``server.ca_file``)."""
    assert available() is None, available()
    directory = Path(tempfile.mkdtemp(prefix="nightshift-prom-"))
    rule_files: list[str] = []
    if rules is not None:
        (directory / "rules.yml").write_text(rules)
        rule_files.append(str(directory / "rules.yml"))
    token_file = None
    if alertmanager_token:
        token_file = directory / "am-token"
        token_file.write_text(alertmanager_token)
    cfg = config(
        targets,
        scrape_interval=scrape_interval,
        rule_files=rule_files,
        alertmanager=alertmanager,
        bearer_token_file=str(token_file) if token_file else None,
    )
    (directory / "prometheus.yml").write_text(yaml.safe_dump(cfg))
    port = free_port()
    web_config: dict[str, Any] = {}
    ca_file = None
    if basic_auth:
        web_config["basic_auth_users"] = {TEST_USER: TEST_PASSWORD_HASH}
    if tls:
        ca_file, key_file = self_signed(directory, "127.0.0.1")
        web_config["tls_server_config"] = {"cert_file": str(ca_file), "key_file": str(key_file)}
    web: list[str] = []
    if web_config:
        (directory / "web.yml").write_text(yaml.safe_dump(web_config))
        web.append(f"--web.config.file={directory / 'web.yml'}")
    log = (directory / "prometheus.log").open("wb")
    process = subprocess.Popen(
        [
            BINARY,
            *web,
            f"--config.file={directory / 'prometheus.yml'}",
            f"--storage.tsdb.path={directory / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--web.enable-lifecycle",
            "--storage.tsdb.retention.time=1d",
            "--log.level=warn",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()
    server = PrometheusServer(directory, port, process, len(targets), ca_file)
    try:
        _wait_ready(server, timeout, (TEST_USER, TEST_PASSWORD) if basic_auth else None)
    except BaseException:
        stop(server)
        raise
    return server


def _wait_ready(
    server: PrometheusServer, timeout: float, auth: tuple[str, str] | None = None
) -> None:
    def ready() -> bool:
        # With basic auth on, ask with the credentials: a 401 comes back before
        # the TSDB is loaded too, and queries then get 503.
        answer = httpx.get(
            f"{server.url}/-/ready", timeout=1, verify=server._client_verify(), auth=auth
        )
        return answer.status_code == 200

    wait_ready("prometheus", server.process, ready, server.log, timeout)


def stop(server: PrometheusServer) -> None:
    end(server.process)
    shutil.rmtree(server.directory, ignore_errors=True)
