"""`nightshift mcp serve` against a real `nightshift up`, driven by the official MCP
SDK client over streamable HTTP and stdio: it acts with the caller's own token and
role, exactly as the API does."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from nightshift.bootstrap import build_container
from nightshift.domain.vocabulary import PrincipalKind, Role
from nightshift.settings import Settings
from tests.integration.mcp.conftest import _wait_for_port
from tests.support.postgres import free_port
from tests.support.server import ControlPlane

NIGHTSHIFT = shutil.which("nightshift", path=str(Path(sys.executable).parent)) or "nightshift"


@pytest.fixture(scope="module")
def plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ControlPlane, str]]:
    """A running control plane, its admin's token and a viewer's token."""
    tmp = tmp_path_factory.mktemp("plane")
    cp = ControlPlane(tmp, f"sqlite:///{tmp / 'nightshift.db'}")
    cp.provision()
    container = build_container(Settings(data_dir=tmp, database_url=cp.database_url))
    try:
        container.principals.create_user(
            "vera",
            kind=PrincipalKind.HUMAN,
            roles=frozenset({Role.VIEWER}),
            contact="v@example.org",
        )
        viewer = container.principals.create_token("vera")
    finally:
        container.db.dispose()
    cp.start()
    try:
        yield cp, viewer
    finally:
        cp.stop()


@pytest.fixture(scope="module")
def mcp_url(plane: tuple[ControlPlane, str]) -> Iterator[str]:
    cp, _ = plane
    port = free_port()
    proc = subprocess.Popen(
        [NIGHTSHIFT, "mcp", "serve", "--transport", "http", "--port", str(port), "--api", cp.url],
        env={**cp.env(), "NIGHTSHIFT_TOKEN": ""},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_port(port, proc, time.monotonic() + 60)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@asynccontextmanager
async def http_client(url: str, token: str | None) -> AsyncIterator[Client]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=30) as http,
        Client(streamable_http_client(url, http_client=http)) as client,
    ):
        yield client


def payload(result: Any) -> Any:
    assert not result.is_error, result.content
    return json.loads(result.content[0].text)


def error_text(result: Any) -> str:
    assert result.is_error
    return " ".join(getattr(block, "text", "") for block in result.content)


async def test_an_operator_investigates_and_reads_the_diagnosis(
    plane: tuple[ControlPlane, str], mcp_url: str
) -> None:
    cp, _ = plane
    async with http_client(mcp_url, cp.token) as client:
        names = {t.name for t in (await client.list_tools()).tools}
        assert {"investigate", "get_investigation", "list_approvals", "approve"} <= names
        created = payload(
            await client.call_tool("investigate", {"agent": "triage", "scenario": "two-am-cascade"})
        )
        got = payload(
            await client.call_tool("get_investigation", {"investigation_id": created["id"]})
        )
        assert got["id"] == created["id"]
        assert got["agent"] == "triage"
        switch = payload(await client.call_tool("kill_switch_status", {}))
        assert isinstance(switch, dict)
        approvals = payload(await client.call_tool("list_approvals", {"status": "any"}))
        assert isinstance(approvals, list | dict)


async def test_without_a_token_nothing_is_answered(mcp_url: str) -> None:
    async with http_client(mcp_url, None) as client:
        result = await client.call_tool("list_investigations", {})
        assert "unauthenticated" in error_text(result)


async def test_a_forged_token_is_refused_by_the_api(mcp_url: str) -> None:
    async with http_client(mcp_url, "not-a-token") as client:
        result = await client.call_tool("list_investigations", {})
        assert "401" in error_text(result)


async def test_a_viewer_reads_but_cannot_investigate(
    plane: tuple[ControlPlane, str], mcp_url: str
) -> None:
    _, viewer = plane
    async with http_client(mcp_url, viewer) as client:
        payload(await client.call_tool("list_investigations", {}))
        result = await client.call_tool("investigate", {"agent": "triage", "title": "why?"})
        assert "403" in error_text(result)
        decided = await client.call_tool("approve", {"proposal_id": "p-1", "reason": "ok"})
        assert "403" in error_text(decided)


def test_over_stdio_it_acts_as_the_token_it_was_started_with(
    plane: tuple[ControlPlane, str],
) -> None:
    """Runs the installed `nightshift mcp serve` (stdio) as an IDE assistant would."""
    asyncio.run(_investigate_over_stdio(plane[0]))


async def _investigate_over_stdio(cp: ControlPlane) -> None:
    params = StdioServerParameters(
        command=NIGHTSHIFT,
        args=["mcp", "serve", "--api", cp.url],
        env={**cp.env(), "NIGHTSHIFT_TOKEN": cp.token},
    )
    async with Client(params) as client:
        created = payload(
            await client.call_tool("investigate", {"agent": "triage", "scenario": "two-am-cascade"})
        )
        listed = payload(await client.call_tool("list_investigations", {}))
        assert created["id"] in json.dumps(listed)
