"""`nightshift gateway` as a real process between an official-SDK MCP client and
real upstream MCP servers (one over HTTP, one over stdio, one that is itself an
agent calling back through the gateway): identity, policy, proposals, kill
switch, chain breaker and the audit of intent, checked in the shared database."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from fastapi.testclient import TestClient
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from sqlalchemy import select

from nightshift.api.app import create_app
from nightshift.bootstrap import Container, build_container
from nightshift.domain.access import Caller
from nightshift.domain.vocabulary import PrincipalKind, Role, TrustPhase
from nightshift.services.concealment import UNCONCEALED
from nightshift.services.gateway import GatewayService
from nightshift.settings import Settings
from nightshift.store.tables import AgentRow, AuditRecordRow, ReviewItemRow
from tests.integration.mcp.conftest import _wait_for_port
from tests.support.postgres import free_port

NIGHTSHIFT = shutil.which("nightshift", path=str(Path(sys.executable).parent)) or "nightshift"
RELAY = Path(__file__).with_name("relay_mcp_server.py")
ADMIN = Caller("tester", PrincipalKind.HUMAN, frozenset({Role.ADMIN}))
APP, DB = ["application"], ["application", "database"]
HOLD_SECONDS = 5  # the gateway's hold timeout in this module (--hold-seconds)


@dataclass
class Gateway:
    url: str
    tokens: dict[str, str]
    container: Container
    marks: Path


def _register(
    c: Container, name: str, klass: str, phase: str, domains: list[str], owner: str = "olivia"
) -> str:
    c.agents.register(
        name, owner=owner, authority_class=klass, trust_phase=phase,
        boundaries={"domains": domains, "namespaces": ["*"]},
    )  # fmt: skip
    return GatewayService(c.db, c.audit, c.kill_switch).issue_token(name, ADMIN, "test")


@pytest.fixture(scope="module")
def gateway(
    tmp_path_factory: pytest.TempPathFactory, http_server: str, stdio_command: tuple[str, ...],
    marks: Path,
) -> Iterator[Gateway]:  # fmt: skip
    tmp = tmp_path_factory.mktemp("gateway")
    gw_port, relay_port = free_port(), free_port()
    sources = tmp / "sources.yaml"
    command = ", ".join(f'"{part}"' for part in stdio_command)
    sources.write_text(
        "version: 1\nsources:\n"
        f"  - {{name: ops-http, kind: mcp, domain: application, url: '{http_server}'}}\n"
        f"  - {{name: ops-stdio, kind: mcp, domain: database, settings: {{prefix: db_, "
        f"command: [{command}]}}}}\n"
        f"  - {{name: relay, kind: mcp, domain: application, "
        f"url: 'http://127.0.0.1:{relay_port}/mcp'}}\n",
        encoding="utf-8",
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "NIGHTSHIFT_DATA_DIR": str(tmp),
        "NIGHTSHIFT_DATABASE_URL": f"sqlite:///{tmp / 'nightshift.db'}",
        "NIGHTSHIFT_SOURCES_FILE": str(sources),
        "NIGHTSHIFT_GATEWAY_HOLD_SECONDS": str(HOLD_SECONDS),
    }
    settings = Settings(data_dir=tmp, database_url=env["NIGHTSHIFT_DATABASE_URL"])
    c = build_container(settings)
    c.principals.create_user(
        "olivia", kind=PrincipalKind.HUMAN, roles=frozenset({Role.OPS_LEAD}), contact="o@x.org"
    )
    c.principals.create_user(
        "ozzy", kind=PrincipalKind.HUMAN, roles=frozenset({Role.OPERATOR}), contact="z@x.org"
    )
    tokens = {
        "orphan": _register(c, "orphan", "supervised", "assist", APP, owner="ozzy"),
        "held": _register(c, "held", "supervised", "assist", APP),
        "triage": _register(c, "triage", "supervised", "limited-remediation", DB),
        "helper": _register(c, "helper", "advisory", "assist", APP),
        "frozen": _register(c, "frozen", "supervised", "assist", APP),
        "halted": _register(c, "halted", "supervised", "assist", APP),
        "peer-a": _register(c, "peer-a", "supervised", "assist", APP),
        "peer-b": _register(c, "peer-b", "supervised", "assist", APP),
    }
    gw_url = f"http://127.0.0.1:{gw_port}/mcp"
    relay = subprocess.Popen(
        [sys.executable, str(RELAY), str(relay_port), gw_url],
        env={**env, "RELAY_TOKEN_A": tokens["peer-a"], "RELAY_TOKEN_B": tokens["peer-b"]},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    proc = None
    try:
        _wait_for_port(relay_port, relay, time.monotonic() + 30)
        proc = subprocess.Popen(
            [NIGHTSHIFT, "gateway", "serve", "--port", str(gw_port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_for_port(gw_port, proc, time.monotonic() + 90)
        yield Gateway(gw_url, tokens, c, marks)
    finally:
        for p in (proc, relay):
            if p is not None:
                p.terminate()
                p.wait(timeout=10)
        c.db.dispose()


@asynccontextmanager
async def session(url: str, token: str, chain: str | None = None) -> AsyncIterator[Client]:
    headers = {"Authorization": f"Bearer {token}"}
    if chain is not None:
        headers["Nightshift-Chain"] = chain
    async with (
        httpx2.AsyncClient(headers=headers, timeout=60) as http,
        Client(streamable_http_client(url, http_client=http)) as client,
    ):
        yield client


def audit(c: Container, actor: str) -> list[dict[str, Any]]:
    with c.db.read() as s:
        rows = s.scalars(select(AuditRecordRow).where(AuditRecordRow.actor == actor))
        return [r.body for r in rows]


async def refused(client: Client, tool: str, args: dict[str, Any]) -> MCPError:
    with pytest.raises(MCPError) as caught:
        await client.call_tool(tool, args)
    return caught.value


async def test_an_owned_in_scope_read_passes_and_is_audited_with_its_intent(
    gateway: Gateway,
) -> None:
    async with session(gateway.url, gateway.tokens["triage"]) as client:
        result = await client.call_tool(
            "db_service_status", {"service": "checkout", "intent": "is the pool saturated?"}
        )
    assert not result.is_error
    assert "service checkout: 3/3 replicas ready" in result.content[0].text
    allowed = [r for r in audit(gateway.container, "triage") if r["decision"] == "allow"]
    assert allowed[-1]["intent"] == "is the pool saturated?"
    assert allowed[-1]["request"]["tool"] == "db_service_status"
    assert allowed[-1]["owner"] == "olivia"
    assert allowed[-1]["phase"] == "limited-remediation"


async def test_tools_list_shows_only_what_the_identity_may_call(gateway: Gateway) -> None:
    async with session(gateway.url, gateway.tokens["helper"]) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    assert {"service_status", "restart_service", "ask_peer"} <= set(tools)
    assert not any(name.startswith("db_") for name in tools)  # database is outside its boundary
    assert "intent" in tools["service_status"].input_schema["required"]
    assert "proposal only" in (tools["restart_service"].description or "")


async def test_an_out_of_scope_read_is_denied_and_audited(gateway: Gateway) -> None:
    async with session(gateway.url, gateway.tokens["helper"]) as client:
        error = await refused(client, "db_service_status", {"service": "x", "intent": "curious"})
    assert error.error.data["reason"] == "out_of_scope"
    denied = audit(gateway.container, "helper")[-1]
    assert (denied["decision"], denied["reason"], denied["intent"]) == (
        "deny", "out_of_scope", "curious",
    )  # fmt: skip


async def test_a_call_without_an_intent_is_refused(gateway: Gateway) -> None:
    async with session(gateway.url, gateway.tokens["triage"]) as client:
        error = await refused(client, "service_status", {"service": "checkout"})
    assert error.error.data["reason"] == "intent_required"


async def test_a_destructive_tool_from_an_assist_agent_is_a_recommendation_never_run(
    gateway: Gateway,
) -> None:
    async with session(gateway.url, gateway.tokens["helper"]) as client:
        result = await client.call_tool(
            "restart_service", {"service": "checkout", "intent": "pool exhausted: restart"}
        )
    assert result.is_error
    assert result.structured_content is not None
    assert result.structured_content["executed"] is False
    assert result.structured_content["proposal"] == "recommended"
    record = audit(gateway.container, "helper")[-1]
    assert record["intent"] == "pool exhausted: restart"
    assert record["extra"]["proposal"] == "recommended"
    with gateway.container.db.read() as s:
        query = select(ReviewItemRow).where(ReviewItemRow.kind == "gateway_proposal")
        items = list(s.scalars(query))
    assert [i.payload["status"] for i in items] == ["recommended"]
    assert "restarted checkout" not in gateway.marks.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def approver(gateway: Gateway) -> Iterator[TestClient]:
    """The control plane's API, as ada: an operator, neither the agent nor its owner."""
    c = gateway.container
    c.principals.create_user(
        "ada", kind=PrincipalKind.HUMAN, roles=frozenset({Role.OPERATOR}), contact="a@x.org"
    )
    headers = {"Authorization": f"Bearer {c.principals.create_token('ada')}"}
    with TestClient(create_app(c, background=False), headers=headers) as client:  # type: ignore[arg-type]
        yield client


async def _held_request(c: Container, agent: str, tool: str) -> str:
    """The approval request a held call opened (it appears as soon as the call is held)."""
    for _ in range(200):
        listed = c.proposals.list(UNCONCEALED, agent=agent)
        found = [v.id for v in listed if v.action == f"mcp:{tool}"]
        if found:
            return found[0]
        await anyio.sleep(0.05)
    raise AssertionError(f"no pending approval request for {agent}'s {tool}")


def _restarts(gateway: Gateway, service: str) -> int:
    return gateway.marks.read_text(encoding="utf-8").splitlines().count(f"restarted {service}")


async def test_a_limited_remediation_write_waits_for_approval_then_runs_once(
    gateway: Gateway, approver: TestClient
) -> None:
    args = {"service": "cart", "intent": "cart's pool is exhausted: restart it"}
    results = []
    async with session(gateway.url, gateway.tokens["triage"]) as client:

        async def call() -> None:
            results.append(await client.call_tool("db_restart_service", args))

        async with anyio.create_task_group() as tg:
            tg.start_soon(call)
            request = await _held_request(gateway.container, "triage", "db_restart_service")
            shown = approver.get(f"/v1/approvals/{request}").json()
            assert (shown["status"], shown["params"]) == ("pending_approval", {"service": "cart"})
            assert shown["intent"]["rationale"] == "cart's pool is exhausted: restart it"
            assert _restarts(gateway, "cart") == 0 and not results  # held: nothing ran yet
            # approved as asked or not at all: its arguments wait in the gateway
            modified = await anyio.to_thread.run_sync(
                lambda: approver.post(
                    f"/v1/approvals/{request}/approve", json={"params": {"service": "all"}}
                )
            )
            assert modified.status_code in (400, 422), modified.text
            assert approver.get(f"/v1/approvals/{request}").json()["status"] == "pending_approval"
            response = await anyio.to_thread.run_sync(
                lambda: approver.post(f"/v1/approvals/{request}/approve", json={"reason": "ok"})
            )
            assert response.status_code == 200, response.text
    [result] = results
    assert not result.is_error
    assert result.content[0].text == "restarted cart"
    assert _restarts(gateway, "cart") == 1  # forwarded once
    done = gateway.container.proposals.get(request, UNCONCEALED)
    assert (done.status, done.decided_by, done.result and done.result["verified"]) == (
        "executed", "ada", True,
    )  # fmt: skip
    held = [r for r in audit(gateway.container, "triage") if r["request"].get("proposal_id")]
    assert held[-1]["request"]["proposal_id"] == request
    assert (held[-1]["decision"], held[-1]["intent"]) == ("needs_approval", args["intent"])
    assert audit(gateway.container, "ada")[-1]["decision"] == "approved"
    # the executed call is evidence for the agent's phase gates, as our own agents' are
    [done_call] = [
        r for r in gateway.container.evidence.records("triage").remediations
        if r.action == "mcp:db_restart_service"
    ]  # fmt: skip
    assert (done_call.phase, done_call.approved_by, done_call.completed) == (
        TrustPhase.LIMITED_REMEDIATION, "ada", True,
    )  # fmt: skip
    tally = gateway.container.evidence.evidence_for("triage", TrustPhase.LIMITED_REMEDIATION)
    assert (tally.approved_remediations, tally.completed) == (1, 1)


async def test_a_rejected_write_is_an_error_naming_the_rejection(
    gateway: Gateway, approver: TestClient
) -> None:
    args = {"service": "basket", "intent": "restart basket"}
    errors: list[MCPError] = []
    async with session(gateway.url, gateway.tokens["triage"]) as client:

        async def call() -> None:
            errors.append(await refused(client, "db_restart_service", args))

        async with anyio.create_task_group() as tg:
            tg.start_soon(call)
            request = await _held_request(gateway.container, "triage", "db_restart_service")
            response = await anyio.to_thread.run_sync(
                lambda: approver.post(
                    f"/v1/approvals/{request}/reject", json={"reason": "not during the sale"}
                )
            )
            assert response.status_code == 200, response.text
    [error] = errors
    assert error.error.data["reason"] == "approval_rejected"
    assert "ada rejected" in error.error.message and "not during the sale" in error.error.message
    assert _restarts(gateway, "basket") == 0
    tally = gateway.container.evidence.evidence_for("triage", TrustPhase.LIMITED_REMEDIATION)
    assert tally.approved_remediations == 1  # a rejected call ran nothing: no remediation


async def test_a_kill_switch_while_held_refuses_the_approval_and_nothing_runs(
    gateway: Gateway, approver: TestClient
) -> None:
    c = gateway.container
    token = _register(c, "fixer", "supervised", "limited-remediation", DB)
    args = {"service": "payments", "intent": "restart payments"}
    errors: list[MCPError] = []
    async with session(gateway.url, token) as client:

        async def call() -> None:
            errors.append(await refused(client, "db_restart_service", args))

        async with anyio.create_task_group() as tg:
            tg.start_soon(call)
            request = await _held_request(c, "fixer", "db_restart_service")
            c.kill_switch.engage("fixer", ADMIN, "fixer misbehaves")
            response = await anyio.to_thread.run_sync(
                lambda: approver.post(f"/v1/approvals/{request}/approve", json={"reason": "ok"})
            )
            assert response.status_code == 403, response.text
            assert "kill_switch_agent" in response.text
    [error] = errors
    assert error.error.data["reason"] == "approval_expired"
    assert _restarts(gateway, "payments") == 0
    refusal = audit(c, "ada")[-1]
    assert (refusal["decision"], refusal["request"]["proposal"]) == ("refused", request)


async def test_a_write_nobody_decides_expires_and_the_agent_is_told(gateway: Gateway) -> None:
    args = {"service": "search", "intent": "restart search"}
    started = time.monotonic()
    async with session(gateway.url, gateway.tokens["triage"]) as client:
        error = await refused(client, "db_restart_service", args)
    assert error.error.data["reason"] == "approval_expired"
    assert "expired" in error.error.message
    assert time.monotonic() - started >= HOLD_SECONDS - 0.5
    held = gateway.container.proposals.get(error.error.data["proposal"], UNCONCEALED)
    assert held.status == "expired"
    assert _restarts(gateway, "search") == 0


async def test_a_suspended_agent_and_a_killed_one_are_refused(gateway: Gateway) -> None:
    c = gateway.container
    c.stewardship.suspend("frozen", ADMIN, "misbehaved in staging")
    async with session(gateway.url, gateway.tokens["frozen"]) as client:
        error = await refused(client, "service_status", {"service": "a", "intent": "check"})
        assert error.error.data["reason"] == "agent_suspended"
        with pytest.raises(MCPError):
            await client.list_tools()
    args = {"service": "a", "intent": "check"}
    async with session(gateway.url, gateway.tokens["halted"]) as client:
        assert not (await client.call_tool("service_status", args)).is_error
        c.kill_switch.engage("halted", ADMIN, "runaway agent")
        error = await refused(client, "service_status", args)  # the same session, next call
    assert error.error.data["reason"] == "kill_switch_agent"
    last = audit(c, "halted")[-1]
    assert (last["decision"], last["reason"]) == ("deny", "kill_switch_agent")
    assert last["request"]["mcp"] == "tools/call service_status"
    async with session(gateway.url, "nsg_halted.not-the-right-secret-at-all") as client:
        error = await refused(client, "service_status", args)
    assert error.error.data["reason"] == "unauthenticated"


async def test_an_agent_without_an_active_owner_or_on_review_hold_is_refused(
    gateway: Gateway,
) -> None:
    c = gateway.container
    c.stewardship.deactivate_user("ozzy", ADMIN, "left the company")
    args = {"service": "a", "intent": "check"}
    async with session(gateway.url, gateway.tokens["orphan"]) as client:
        error = await refused(client, "service_status", args)
    assert error.error.data["reason"] == "owner_inactive"
    # what an automatic demotion stores (services/phases.py): a hold nobody reviewed yet
    with c.db.transaction() as s:
        row = s.scalar(select(AgentRow).where(AgentRow.name == "held"))
        assert row is not None
        hold = {"demoted_at": "2026-01-01T00:00:00+00:00", "triggers": ["low_accuracy"]}
        row.settings = {**row.settings, "review_hold": hold}
    async with session(gateway.url, gateway.tokens["held"]) as client:
        error = await refused(client, "service_status", args)
    assert error.error.data["reason"] == "review_hold"


async def test_two_agents_calling_each_other_trip_the_chain_breaker(gateway: Gateway) -> None:
    async with session(gateway.url, gateway.tokens["peer-a"]) as client:
        result = await client.call_tool("ask_peer", {"question": "why?", "intent": "loop"})
    text = result.content[0].text
    assert "hop refused: chain_cycle" in text
    records = [*audit(gateway.container, "peer-a"), *audit(gateway.container, "peer-b")]
    tripped = [r for r in records if r["reason"] == "chain_cycle"]
    assert tripped and tripped[-1]["extra"]["chain_path"] == ["peer-a", "peer-b", "peer-a"]


async def test_a_chain_deeper_than_the_boundary_is_refused(gateway: Gateway) -> None:
    # four agents before it: the gateway adds triage as hop 4; its boundary allows 3
    deep = (
        "v=1;id=chain-0001;depth=3;path=ext-a,ext-b,ext-c,ext-d;max-depth=8;"
        "tokens=1000;cost=1;wall=100;calls=10"
    )
    async with session(gateway.url, gateway.tokens["triage"], chain=deep) as client:
        error = await refused(client, "service_status", {"service": "a", "intent": "deep"})
    assert error.error.data["reason"] == "chain_depth_exceeded"
    malformed = "v=1;id=x"
    async with session(gateway.url, gateway.tokens["triage"], chain=malformed) as client:
        error = await refused(client, "service_status", {"service": "a", "intent": "bad"})
    assert error.error.data["reason"] == "invalid_request"
