"""Which MCP tools an agent may call as reads: annotations are hints, the
operator's word wins, and without either a tool is not read-only."""

from __future__ import annotations

import pytest
from mcp.types import ToolAnnotations

from nightshift.domain.vocabulary import Domain
from nightshift.sources.config import SourceConfig, SourceKind, SourcesError
from nightshift.sources.context import SourceContext
from nightshift.sources.mcp_source import McpSettings, build, classify, endpoint_for


@pytest.mark.parametrize(
    ("annotations", "overrides", "read_only"),
    [
        (ToolAnnotations(read_only_hint=True), {}, True),
        (ToolAnnotations(read_only_hint=True, destructive_hint=False), {}, True),
        (ToolAnnotations(read_only_hint=True, destructive_hint=True), {}, False),  # contradictory
        (ToolAnnotations(destructive_hint=False), {}, False),  # additive is still a write
        (ToolAnnotations(), {}, False),
        (None, {}, False),
        (None, {"t": "read"}, True),
        (ToolAnnotations(read_only_hint=True), {"t": "write"}, False),
    ],
)
def test_classification(
    annotations: ToolAnnotations | None, overrides: dict[str, str], read_only: bool
) -> None:
    assert classify("t", annotations, overrides) is read_only


def _source(**fields: object) -> SourceConfig:
    return SourceConfig(name="ops", kind=SourceKind.MCP, domain=Domain.APPLICATION, **fields)


def test_http_endpoint_carries_the_domains_token_as_bearer() -> None:
    ctx = SourceContext(
        "inv", frozenset({"*"}), {(Domain.APPLICATION, "default"): {"token": "t0k"}}
    )
    src = _source(url="http://127.0.0.1:1/mcp")
    endpoint = endpoint_for(src, McpSettings(), ctx)
    assert endpoint.headers == {"Authorization": "Bearer t0k"}
    assert "t0k" not in repr(endpoint)


def test_stdio_without_a_command_is_a_clear_error() -> None:
    with pytest.raises(SourcesError, match=r"needs settings\.command"):
        build(_source(), SourceContext("inv", frozenset({"*"})))


def test_unknown_settings_are_refused() -> None:
    with pytest.raises(SourcesError, match="settings"):
        build(_source(settings={"comand": ["x"]}), SourceContext("inv", frozenset({"*"})))
