"""A real control plane in a subprocess (``python -m nightshift up``), for
tests and benchmarks that need real workers, restarts and kills."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from nightshift.bootstrap import build_container
from nightshift.domain.vocabulary import PrincipalKind, Role
from nightshift.services.demo_identities import DEMO_BOUNDARIES
from nightshift.settings import Settings
from tests.support.postgres import free_port

TERMINAL = {"succeeded", "escalated", "failed", "cancelled", "deadline_exceeded"}
# For a test that freezes or kills a worker right after its dispatch: the worker
# template starts with the first unit, which waits for its imports, rather than
# with `nightshift up`. A worker forked from a template warmed at start can
# finish a whole investigation before the test's first look.
TEMPLATE_WITH_FIRST_UNIT = {"NIGHTSHIFT_WORKER_TEMPLATE_AT_START": "false"}


@dataclass
class ControlPlane:
    data_dir: Path
    database_url: str
    env_overrides: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    token: str = ""
    # How the server is launched: ``python -m nightshift`` by default; the CLI
    # tests launch the installed ``nightshift`` console script, as users do.
    launcher: list[str] = field(default_factory=lambda: [sys.executable, "-m", "nightshift"])
    _log: Any = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            NIGHTSHIFT_DATA_DIR=str(self.data_dir),
            NIGHTSHIFT_DATABASE_URL=self.database_url,
            NIGHTSHIFT_PORT=str(self.port),
            NIGHTSHIFT_DISPATCH_INTERVAL_SECONDS="0.2",
            **self.env_overrides,
        )
        return env

    def provision(self) -> None:
        """Create an admin, its token and an agent, straight in the database."""
        settings = Settings(data_dir=self.data_dir, database_url=self.database_url)
        container = build_container(settings)
        try:
            container.principals.create_user(
                "oncall", kind=PrincipalKind.HUMAN, roles=frozenset({Role.ADMIN}),
                contact="oncall@example.org",
            )  # fmt: skip
            container.agents.register(
                "triage",
                owner="oncall",
                authority_class="supervised",
                trust_phase="assist",
                boundaries=DEMO_BOUNDARIES,
            )
            self.token = container.principals.create_token("oncall")
        finally:
            container.db.dispose()

    def start(self) -> None:
        self._close_log()
        log = open(self.data_dir / "control-plane.log", "ab")  # noqa: SIM115 - lives with proc
        self._log = log
        self.proc = subprocess.Popen(
            [*self.launcher, "up", "--no-demo"],
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(self.log_text())
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("control plane did not become ready:\n" + self.log_text())

    def kill(self) -> None:
        """SIGKILL the control plane alone (its workers are in their own groups)."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self._close_log()

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._close_log()

    def log_text(self) -> str:
        path = self.data_dir / "control-plane.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def client(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {self.token}"}, timeout=30
        )

    def submit(self, client: httpx.Client, **body: Any) -> dict[str, Any]:
        payload = {"agent": "triage", "title": "test", **body}
        resp = client.post("/v1/investigations", json=payload)
        resp.raise_for_status()
        return dict(resp.json())

    def wait_for(
        self, client: httpx.Client, inv_id: str, statuses: set[str], timeout: float = 60
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = dict(client.get(f"/v1/investigations/{inv_id}").json())
            if got["status"] in statuses:
                return got
            time.sleep(0.1)
        raise AssertionError(f"{inv_id} never reached {statuses}; last: {got}\n{self.log_text()}")


def worker_pid(database_url: str, inv_id: str) -> int:
    """The pid of an investigation's worker, from the executor's reference."""
    from nightshift.store.database import Database
    from nightshift.store.tables import InvestigationRow

    db = Database(database_url)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with db.read() as s:
                row = s.get(InvestigationRow, inv_id)
                if row is not None and row.worker_ref:
                    return int(row.worker_ref.split(":")[1])
            time.sleep(0.05)
    finally:
        db.dispose()
    raise AssertionError(f"no worker recorded for {inv_id}")
