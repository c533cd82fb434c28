"""The CLI's control-plane client, over an injected transport: the events it reads
from a stream, and how a refusal ends the command."""

from __future__ import annotations

import httpx
import pytest
import typer

from nightshift.cli.client import EXIT_API, Api, connect

STREAM = (
    ": keep-alive\n\n"
    'event: tool.requested\ndata: {"kind": "tool.requested", "data": {"tool": "kubectl_get"}}\n\n'
    "event: ping\n\n"  # no data: nothing to report
    'data: {"kind": "log",\ndata:  "data": {}}\n\n'  # one payload over two data lines
    'event: status\ndata: {"kind": "status", "data": {"status": "succeeded"}}\n\n'
)


def _api(handle: httpx.MockTransport) -> Api:
    return Api(httpx.Client(base_url="http://cp.test", transport=handle))


def _answer(status: int, body: str, content_type: str) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/v1/investigations/i/events"
        return httpx.Response(status, text=body, headers={"content-type": content_type})

    return httpx.MockTransport(handle)


def test_events_are_read_by_kind_and_keep_alives_are_skipped() -> None:
    api = _api(_answer(200, STREAM, "text/event-stream; charset=utf-8"))
    got = list(api.sse("/v1/investigations/i/events"))
    assert got == [
        ("tool.requested", {"kind": "tool.requested", "data": {"tool": "kubectl_get"}}),
        ("message", {"kind": "log", "data": {}}),
        ("status", {"kind": "status", "data": {"status": "succeeded"}}),
    ]


def test_a_refused_stream_ends_the_command_with_the_api_exit_code(
    capsys: pytest.CaptureFixture[str],
) -> None:
    api = _api(_answer(403, '{"message": "not yours"}', "application/json"))
    with pytest.raises(typer.Exit) as ended:
        list(api.sse("/v1/investigations/i/events"))
    assert ended.value.exit_code == EXIT_API
    assert "403: not yours" in capsys.readouterr().err


def test_an_answer_that_is_no_event_stream_ends_the_command() -> None:
    api = _api(_answer(200, "<html>", "text/html"))
    with pytest.raises(typer.Exit) as ended:
        list(api.sse("/v1/investigations/i/events"))
    assert ended.value.exit_code == EXIT_API


def test_connect_signs_every_request_with_the_token() -> None:
    api = connect("http://cp.test/", "tok-1")
    try:
        assert api.base_url == "http://cp.test"
        assert api._client.headers["authorization"] == "Bearer tok-1"
        assert api._client.timeout == httpx.Timeout(30)
    finally:
        api.close()
