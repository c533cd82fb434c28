"""The gateway's commands as an operator runs them: `--help`, a token issued by the
CLI, and the gateway over stdio started by an official-SDK client as a subprocess
(the way an IDE or agent runtime starts an MCP server)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import anyio
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.shared.exceptions import MCPError
from sqlalchemy import select

from nightshift.bootstrap import build_container
from nightshift.domain.vocabulary import PrincipalKind, Role
from nightshift.settings import Settings
from nightshift.store.tables import AuditRecordRow
from tests.integration.mcp.test_gateway import NIGHTSHIFT


def _env(tmp: Path, sources: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "NIGHTSHIFT_DATA_DIR": str(tmp),
        "NIGHTSHIFT_DATABASE_URL": f"sqlite:///{tmp / 'nightshift.db'}",
        "NIGHTSHIFT_SOURCES_FILE": str(sources),
    }


async def _cli(env: dict[str, str], *args: str) -> str:
    """`nightshift gateway ARGS`'s stdout (run off the event loop)."""

    def run() -> str:
        done = subprocess.run(
            [NIGHTSHIFT, "gateway", *args],
            env=env, capture_output=True, text=True, timeout=120, check=True,
        )  # fmt: skip
        return done.stdout.strip()

    return await anyio.to_thread.run_sync(run)


def _marks(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def test_gateway_help_names_its_commands() -> None:
    shown = subprocess.run(
        [NIGHTSHIFT, "gateway", "--help"], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    for command in ("serve", "token", "revoke"):
        assert command in shown
    serve = subprocess.run(
        [NIGHTSHIFT, "gateway", "serve", "--help"], capture_output=True, text=True, timeout=60
    ).stdout
    assert "--transport" in serve and "--token" in serve


async def test_an_agent_runs_the_stdio_gateway_with_a_cli_issued_token(
    tmp_path: Path, stdio_command: tuple[str, ...], marks: Path
) -> None:
    sources = tmp_path / "sources.yaml"
    command = ", ".join(f'"{part}"' for part in stdio_command)
    sources.write_text(
        "version: 1\nsources:\n"
        f"  - {{name: ops, kind: mcp, domain: application, settings: {{command: [{command}]}}}}\n",
        encoding="utf-8",
    )
    env = _env(tmp_path, sources)
    c = build_container(Settings(data_dir=tmp_path, database_url=env["NIGHTSHIFT_DATABASE_URL"]))
    try:
        c.principals.create_user(
            "olivia", kind=PrincipalKind.HUMAN, roles=frozenset({Role.OPS_LEAD}), contact="o@x"
        )
        c.agents.register(
            "ide-bot", owner="olivia", authority_class="supervised", trust_phase="assist",
            boundaries={"domains": ["application"], "namespaces": ["*"]},
        )  # fmt: skip
        token = await _cli(env, "token", "ide-bot", "--description", "ide")
        assert token.startswith("nsg_ide-bot.")
        params = StdioServerParameters(
            command=NIGHTSHIFT,
            args=["gateway", "serve", "--transport", "stdio"],
            env={**env, "NIGHTSHIFT_GATEWAY_TOKEN": token},
        )
        async with Client(params) as client:
            names = {t.name for t in (await client.list_tools()).tools}
            assert {"service_status", "restart_service"} <= names
            read = await client.call_tool(
                "service_status", {"service": "cart"}, meta={"nightshift/intent": "cart slow?"}
            )
            assert "service cart: 3/3 replicas ready" in read.content[0].text
            proposed = await client.call_tool(
                "restart_service", {"service": "cart", "intent": "restart it"}
            )
            assert proposed.structured_content is not None
            assert proposed.structured_content["proposal"] == "recommended"
        assert _marks(marks) == ""
        with c.db.read() as s:
            rows = s.scalars(select(AuditRecordRow).where(AuditRecordRow.actor == "ide-bot"))
            intents = [r.body["intent"] for r in rows]
        assert intents == ["cart slow?", "restart it"]
        assert "revoked 1" in await _cli(env, "revoke", "ide-bot")
        params = StdioServerParameters(
            command=NIGHTSHIFT,
            args=["gateway", "serve", "--transport", "stdio", "--token", token],
            env=env,
        )
        async with Client(params) as client:
            with pytest.raises(MCPError, match="unauthenticated"):
                await client.list_tools()
    finally:
        c.db.dispose()
