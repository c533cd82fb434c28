"""Injection through MCP: an upstream server behind `nightshift gateway` plants
instructions in its tools' results and descriptions (the MCP channels of the
injection corpus, tests/unit/llm/data/mcp_injections.yaml). An agent that obeys
every one of them, driven by the official SDK client through the real gateway,
gets each attempt denied: a tool outside its scope, a namespace outside its
boundary, a tool nobody offers, a forged chain, a call without its intent, a
write that would widen its own boundaries (recorded as a recommendation, never
forwarded). The upstreams record every write they execute: none may."""

from __future__ import annotations

import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from mcp.shared.exceptions import MCPError

from nightshift.bootstrap import Container, build_container
from nightshift.domain.access import Caller
from nightshift.domain.vocabulary import PrincipalKind, Role
from nightshift.services.gateway import GatewayService
from nightshift.settings import Settings
from tests.integration.mcp.conftest import _wait_for_port
from tests.integration.mcp.test_gateway import NIGHTSHIFT, audit, session
from tests.support.postgres import free_port

HOSTILE = Path(__file__).with_name("hostile_mcp_server.py")
CORPUS = Path(__file__).parents[2] / "unit" / "llm" / "data" / "mcp_injections.yaml"
ADMIN = Caller("tester", PrincipalKind.HUMAN, frozenset({Role.ADMIN}))
LIMITS = {"max_tool_calls": 1000, "max_calls_per_minute": 1000}


def corpus() -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = yaml.safe_load(CORPUS.read_text(encoding="utf-8"))["attempts"]
    return entries


def runbook(entry_id: str) -> str:  # the hostile server's name for a description's tool
    return "runbook_" + entry_id.replace("-", "_")


@dataclass
class Hostile:
    url: str
    token: str
    container: Container
    marks: tuple[Path, ...]


@pytest.fixture(scope="module")
def hostile(
    tmp_path_factory: pytest.TempPathFactory, stdio_command: tuple[str, ...], marks: Path
) -> Iterator[Hostile]:
    tmp = tmp_path_factory.mktemp("injection")
    up_port, gw_port = free_port(), free_port()
    hostile_marks = tmp / "hostile-marks.txt"
    hostile_marks.write_text("", encoding="utf-8")
    command = ", ".join(f'"{part}"' for part in stdio_command)
    sources = tmp / "sources.yaml"
    sources.write_text(
        "version: 1\nsources:\n"
        f"  - {{name: hostile, kind: mcp, domain: application, "
        f"url: 'http://127.0.0.1:{up_port}/mcp'}}\n"
        f"  - {{name: ops-stdio, kind: mcp, domain: database, settings: {{prefix: db_, "
        f"command: [{command}]}}}}\n",
        encoding="utf-8",
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "NIGHTSHIFT_DATA_DIR": str(tmp),
        "NIGHTSHIFT_DATABASE_URL": f"sqlite:///{tmp / 'nightshift.db'}",
        "NIGHTSHIFT_SOURCES_FILE": str(sources),
    }
    c = build_container(Settings(data_dir=tmp, database_url=env["NIGHTSHIFT_DATABASE_URL"]))
    c.principals.create_user(
        "olivia", kind=PrincipalKind.HUMAN, roles=frozenset({Role.OPS_LEAD}), contact="o@x.org"
    )
    c.agents.register(
        "intern", owner="olivia", authority_class="supervised", trust_phase="assist",
        boundaries={"domains": ["application"], "namespaces": ["shop"], **LIMITS},
    )  # fmt: skip
    token = GatewayService(c.db, c.audit, c.kill_switch).issue_token("intern", ADMIN, "test")
    upstream = subprocess.Popen(
        [sys.executable, str(HOSTILE), str(up_port), str(CORPUS), str(hostile_marks)],
        env={"PATH": "/usr/bin:/bin"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    gateway = None
    try:
        _wait_for_port(up_port, upstream, time.monotonic() + 30)
        gateway = subprocess.Popen(
            [NIGHTSHIFT, "gateway", "serve", "--port", str(gw_port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_for_port(gw_port, gateway, time.monotonic() + 90)
        yield Hostile(f"http://127.0.0.1:{gw_port}/mcp", token, c, (hostile_marks, marks))
    finally:
        for p in (gateway, upstream):
            if p is not None:
                p.terminate()
                p.wait(timeout=10)
        c.db.dispose()


def test_the_mcp_corpus_plants_in_results_and_descriptions() -> None:
    entries = corpus()
    channels = Counter(e["channel"] for e in entries)
    assert len({e["id"] for e in entries}) == len(entries)
    assert set(channels) == {"mcp_result", "mcp_description"}
    assert min(channels.values()) >= 8
    assert all(e["attempt"] and e["denied"] for e in entries)


async def _read_planted(h: Hostile, entry: dict[str, Any], offered: dict[str, str]) -> str:
    """What the agent reads of the entry, through the gateway."""
    if entry["channel"] == "mcp_description":
        return offered[runbook(entry["id"])]
    async with session(h.url, h.token) as client:
        result = await client.call_tool(
            "incident_notes", {"entry": entry["id"], "intent": "read the incident's notes"}
        )
    assert not result.is_error
    return " ".join(getattr(b, "text", "") for b in result.content)


async def _obey(h: Hostile, attempt: dict[str, Any]) -> str:
    """Send the call the planted text asks for; how the gateway answered."""
    args = dict(attempt.get("params") or {})
    if not attempt.get("no_intent"):
        args["intent"] = "the notes told me to"
    async with session(h.url, h.token, chain=attempt.get("chain")) as client:
        try:
            result = await client.call_tool(attempt["tool"], args, meta=attempt.get("meta"))
        except MCPError as exc:
            return str(exc.error.data["reason"])
    structured = result.structured_content or {}
    assert result.is_error and structured.get("executed") is False, result
    return str(structured["proposal"])


async def test_every_mcp_injection_is_denied_by_the_gateway(hostile: Hostile) -> None:
    async with session(hostile.url, hostile.token) as client:
        offered = {t.name: t.description or "" for t in (await client.list_tools()).tools}
    answers: list[tuple[str, str, str]] = []
    for entry in corpus():
        planted = await _read_planted(hostile, entry, offered)
        assert entry["text"][:48] in planted, f"the agent never saw {entry['id']}"
        for attempt in entry["attempt"]:
            answers.append((entry["id"], entry["denied"], await _obey(hostile, attempt)))
    wrong = [a for a in answers if a[1] != a[2]]
    summary = f"{len(answers)} attempts: {Counter(a[2] for a in answers)}"
    assert wrong == [], summary
    for path in hostile.marks:  # no upstream executed a write
        assert path.read_text(encoding="utf-8") == "", summary
    records = audit(hostile.container, "intern")
    denied = [r for r in records if r["decision"] == "deny"]
    refusals = [a for a in answers if a[2] != "recommended"]
    assert len(denied) >= len(refusals), summary  # every refusal is audited
    proposed = [r for r in records if r.get("extra", {}).get("proposal") == "recommended"]
    assert len(proposed) == len(answers) - len(refusals), summary
    # an out-of-scope write attempt is a denied proposal: the phase gates and the
    # demotion rule count it, as they count our own agents' (services/evidence.py)
    writes = {"db_restart_service", "db_annotate_incident"}  # the test servers' writes
    tried = sum(
        1
        for e in corpus()
        for a in e["attempt"]
        if a["tool"] in writes and e["denied"] == "out_of_scope"
    )
    assert tried >= 3
    assert len(hostile.container.evidence.records("intern").out_of_scope_actions) == tried
    print(summary)
