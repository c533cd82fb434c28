"""HTTP client for CLI commands that talk to a running control plane."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import httpx
import typer
from rich.console import Console

from nightshift.settings import Settings
from nightshift.store.private_files import write_private

err = Console(stderr=True)
# Exit codes, the same for every command (documented in the README):
EXIT_OK = 0
EXIT_FAILED = 1  # what was checked is bad: investigation failed, audit chain broken, drift
EXIT_USAGE = 2  # bad arguments or configuration (also Typer's own usage errors)
EXIT_ESCALATED = 3  # `investigate --follow`: the investigation was escalated to humans
EXIT_API = 4  # refused (HTTP 4xx/5xx) or control plane unreachable; message on stderr
TOKEN_FILE = "cli-token"  # noqa: S105 - a file name, not a secret


def token_path(settings: Settings) -> Path:
    return settings.data_dir / TOKEN_FILE


def save_token(settings: Settings, token: str) -> Path:
    return write_private(token_path(settings), token + "\n")


def resolve_token(settings: Settings, explicit: str | None) -> str:
    if explicit:
        return explicit
    path = token_path(settings)
    if path.exists():
        return path.read_text().strip()
    fail(
        "no API token: pass --token, set NIGHTSHIFT_TOKEN, or run `nightshift up` once "
        "(it saves a token for this user)"
    )


def fail(message: str, code: int = EXIT_API) -> NoReturn:
    err.print(f"[red]error:[/red] {message}")
    raise typer.Exit(code)


def connect(base_url: str, token: str) -> Api:
    """The CLI's client for the control plane at ``base_url``, signed in with ``token``."""
    client = httpx.Client(
        base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    return Api(client)


class Api:
    """Control-plane requests over ``client`` (``connect`` builds it; tests pass
    one on an in-process transport), failing the command on any refusal."""

    def __init__(self, client: httpx.Client) -> None:
        self._client = client
        self.base_url = str(client.base_url).rstrip("/")

    def close(self) -> None:
        self._client.close()

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            resp = self._client.request(method, path, **kwargs)
        except httpx.ConnectError:
            fail(f"cannot reach the control plane at {self.base_url}; is `nightshift up` running?")
        except httpx.HTTPError as exc:
            fail(f"request to {self.base_url}{path} failed: {exc}")
        if resp.status_code >= 400:
            fail(_error_message(resp))
        # 204 No Content (and any empty body) means "done": nothing to decode.
        if resp.status_code == 204 or not resp.content:
            return None
        if resp.headers.get("content-type", "").startswith("application/json"):
            return resp.json()
        return resp.text

    def sse(self, path: str) -> Iterator[tuple[str, dict[str, Any]]]:
        """(event kind, payload) pairs from a server-sent event stream; an event
        without data (a keep-alive) is skipped."""
        import json

        from httpx_sse import EventSource, SSEError

        try:
            with self._client.stream("GET", path, timeout=None) as resp:
                if resp.status_code >= 400:
                    resp.read()
                    fail(_error_message(resp))
                for event in EventSource(resp).iter_sse():
                    if event.data:
                        yield event.event, json.loads(event.data)
        except httpx.ConnectError:
            fail(f"cannot reach the control plane at {self.base_url}")
        except SSEError as exc:  # answered, but not with an event stream
            fail(f"{self.base_url}{path} sent no event stream: {exc}")


def _error_message(resp: httpx.Response) -> str:
    """``STATUS: message`` from the API's error body (or its first bytes)."""
    try:
        body = resp.json()
        message = body.get("message") or body if isinstance(body, dict) else body
    except ValueError:
        message = resp.text[:500]
    extra = ""
    if resp.status_code in (429, 503) and "retry-after" in resp.headers:
        extra = f" (retry after {resp.headers['retry-after']}s)"
    return f"{resp.status_code}: {message}{extra}"
