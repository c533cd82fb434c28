"""An MCP server as an evidence source, against real server processes (stdio and
streamable HTTP): read-only tools are governed reads of the source's domain; a
destructive or unannotated tool is never executed by the agent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from nightshift.agent.tools.governed import GovernedToolset
from nightshift.agent.tools.protocol import ToolCall, Toolset, ToolStatus
from nightshift.domain.vocabulary import AuthorityClass, Domain, TrustPhase
from nightshift.governance.decisions import Decision, ReasonCode
from nightshift.governance.policy import bind
from nightshift.sources.config import SourceConfig, SourceKind
from nightshift.sources.context import SourceContext
from nightshift.sources.registry import assemble
from tests.unit.governance.builders import agent, context, wide_boundaries

CREDENTIALS = {(Domain.APPLICATION, "default"): {"token": "s3cret-token"}}


def source(name: str, **fields: Any) -> SourceConfig:
    # a stdio server is a process per call; on a loaded 2-core CI machine it starts slowly
    fields.setdefault("timeout_seconds", 60)
    return SourceConfig(name=name, kind=SourceKind.MCP, domain=Domain.APPLICATION, **fields)


def sourced(config: SourceConfig) -> Toolset:
    ctx = SourceContext(
        investigation_id="inv-1", namespaces=frozenset({"*"}), credentials=CREDENTIALS
    )
    toolset, problems = assemble([config], ctx)
    assert problems == ()
    return toolset


def governed(inner: Toolset, *domains: Domain) -> tuple[GovernedToolset, list[Decision]]:
    bounds = wide_boundaries(domains=frozenset(domains)) if domains else wide_boundaries()
    identity = agent(AuthorityClass.AUTONOMOUS, TrustPhase.ASSIST, boundaries=bounds)
    audited: list[Decision] = []
    wrapper = GovernedToolset(
        inner, bind(identity, lambda: context(identity)), audit=lambda _c, _r, d: audited.append(d)
    )
    return wrapper, audited


def executed(marks: Path) -> str:
    return marks.read_text(encoding="utf-8")


@pytest.fixture(scope="module", params=["stdio", "http"])
def mcp_source(request: pytest.FixtureRequest) -> SourceConfig:
    if request.param == "http":
        return source("ops-http", url=request.getfixturevalue("http_server"))
    command = request.getfixturevalue("stdio_command")
    return source("ops-stdio", settings={"command": list(command)})


@pytest.fixture(scope="module")
def mcp_toolset(mcp_source: SourceConfig) -> Toolset:
    """Discovered once per transport (listing the tools starts a session)."""
    return sourced(mcp_source)


def test_tools_are_classified_from_their_annotations(mcp_toolset: Toolset) -> None:
    specs = {s.name: s for s in mcp_toolset.specs()}
    assert set(specs) == {"service_status", "restart_service", "annotate_incident"}
    assert specs["service_status"].read_only is True
    assert specs["restart_service"].read_only is False  # destructiveHint
    assert specs["annotate_incident"].read_only is False  # no annotations: not read-only
    assert all(s.domain is Domain.APPLICATION for s in specs.values())


async def test_a_read_only_tool_is_a_governed_read(mcp_toolset: Toolset) -> None:
    wrapper, audited = governed(mcp_toolset)
    result = await wrapper.call(ToolCall("service_status", {"service": "checkout"}))
    assert result.status is ToolStatus.OK, result.text
    assert "service checkout: 3/3 replicas ready" in result.text
    assert audited == []


async def test_a_destructive_tool_is_denied_and_never_runs(
    mcp_toolset: Toolset, marks: Path
) -> None:
    wrapper, audited = governed(mcp_toolset)
    result = await wrapper.call(ToolCall("restart_service", {"service": "checkout"}))
    assert result.status is ToolStatus.DENIED
    assert result.error == ReasonCode.WRITE_TOOL_DENIED.value
    assert [d.reason for d in audited] == [ReasonCode.WRITE_TOOL_DENIED]
    unannotated = await wrapper.call(ToolCall("annotate_incident", {"note": "x"}))
    assert unannotated.status is ToolStatus.DENIED
    assert executed(marks) == ""  # the server ran neither


async def test_a_read_outside_the_agents_domains_is_denied(mcp_toolset: Toolset) -> None:
    wrapper, audited = governed(mcp_toolset, Domain.KUBERNETES)
    result = await wrapper.call(ToolCall("service_status", {"service": "checkout"}))
    assert result.status is ToolStatus.DENIED
    assert [d.reason for d in audited] == [ReasonCode.OUT_OF_SCOPE]


def test_the_operator_override_wins_over_annotations(stdio_command: tuple[str, ...]) -> None:
    config = source(
        "ops-stdio",
        settings={
            "command": list(stdio_command),
            "tools": {"annotate_incident": "read", "service_status": "write"},
        },
    )
    specs = {s.name: s for s in sourced(config).specs()}
    assert specs["annotate_incident"].read_only is True
    assert specs["service_status"].read_only is False


async def test_the_stdio_server_gets_the_domains_credential(stdio_command: tuple[str, ...]) -> None:
    result = await sourced(source("ops-stdio", settings={"command": list(stdio_command)})).call(
        ToolCall("service_status", {"service": "checkout"})
    )
    assert "(with credential)" in result.text
    assert "s3cret-token" not in result.text


def test_a_server_that_is_down_is_reported_not_fatal() -> None:
    from tests.support.postgres import free_port

    down = source(
        "ops-down",
        url=f"http://127.0.0.1:{free_port()}/mcp",
        settings={"discover_timeout_seconds": 3},
    )
    ctx = SourceContext(investigation_id="inv-1", namespaces=frozenset({"*"}))
    with pytest.raises(Exception, match=r"no evidence source could be set up.*ops-down"):
        assemble([down], ctx)
