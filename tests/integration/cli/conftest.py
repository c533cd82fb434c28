"""The ``nightshift`` console script run as a user runs it, against a real
``nightshift up`` (started once per test module: the machine has 2 cores)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from nightshift.bootstrap import build_container
from nightshift.domain.vocabulary import PrincipalKind, Role
from nightshift.settings import Settings
from tests.support.server import ControlPlane

NIGHTSHIFT = str(Path(sys.executable).parent / "nightshift")
ALL_DOMAINS = ["application", "database", "kubernetes", "network", "security"]


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


@dataclass
class Cli:
    plane: ControlPlane
    lead_token: str
    tmp: Path

    def env(self, token: str | None) -> dict[str, str]:
        env = self.plane.env()
        env.update(
            NIGHTSHIFT_API_URL=self.plane.url,
            NIGHTSHIFT_TOKEN=token if token is not None else self.plane.token,
            COLUMNS="250",  # wide enough that tables need not squeeze (ids stay whole anyway)
            NO_COLOR="1",
        )
        return env

    def __call__(
        self, *args: str, expect: int = 0, token: str | None = None, stdin: str | None = None
    ) -> Result:
        done = subprocess.run(
            [NIGHTSHIFT, *args],
            env=self.env(token),
            input=stdin,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        result = Result(done.returncode, done.stdout, done.stderr)
        assert result.code == expect, f"nightshift {' '.join(args)} -> {result}"
        return result

    def lead(self, *args: str, expect: int = 0) -> Result:
        """As a user holding ops-lead, operator and platform-owner."""
        return self(*args, expect=expect, token=self.lead_token)

    def file(self, name: str, content: Any) -> str:
        path = self.tmp / name
        path.write_text(content if isinstance(content, str) else json.dumps(content))
        return str(path)

    def container_settings(self) -> Settings:
        return Settings(data_dir=self.plane.data_dir, database_url=self.plane.database_url)


@contextlib.contextmanager
def running_cli(
    tmp_path_factory: pytest.TempPathFactory, env: dict[str, str] | None = None
) -> Iterator[Cli]:
    """A provisioned ``nightshift up`` (with ``env`` added to its environment) and the
    CLI pointed at it."""
    assert shutil.which(NIGHTSHIFT) or Path(NIGHTSHIFT).exists(), "console script not installed"
    data = tmp_path_factory.mktemp("cli-plane")
    plane = ControlPlane(
        data, f"sqlite:///{data / 'nightshift.db'}", dict(env or {}), launcher=[NIGHTSHIFT]
    )
    plane.provision()
    container = build_container(Settings(data_dir=data, database_url=plane.database_url))
    try:
        container.principals.create_user(
            "lead", kind=PrincipalKind.HUMAN, contact="lead@example.org",
            roles=frozenset({Role.OPS_LEAD, Role.OPERATOR, Role.PLATFORM_OWNER}),
        )  # fmt: skip
        lead_token = container.principals.create_token("lead")
    finally:
        container.db.dispose()
    plane.start()
    try:
        yield Cli(plane, lead_token, tmp_path_factory.mktemp("cli-files"))
    finally:
        plane.stop()
        if os.environ.get("NIGHTSHIFT_KEEP_CLI_LOG"):
            print(plane.log_text())


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cli]:
    with running_cli(tmp_path_factory) as started:
        yield started
