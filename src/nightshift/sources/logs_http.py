"""HTTP plumbing of the log-store backends: TLS context and credentials, reading
answers within bounds, and telling a refused query from an outage."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field

import httpx

from nightshift.sources.config import SourceConfig, SourcesError
from nightshift.sources.context import SourceContext

MAX_RECORD_BYTES = 256 * 1024  # one entry as read; longer ones are skipped unread
MAX_BODY_BYTES = 32 * 1024 * 1024  # a whole (non-streamed) answer


class QueryRejected(Exception):
    """The store refused the query itself (bad regex, bad syntax): the agent's
    mistake to correct, not an outage."""


class AnswerTooLarge(Exception):
    """The store sent more than this adapter is willing to hold."""


def tls_context(source: SourceConfig) -> ssl.SSLContext:
    """Built once per source: an httpx client made without one builds its own from
    the CA bundle, which costs tens of milliseconds on every call."""
    ca_file, verify = source.setting("ca_file"), source.setting("verify_tls", True)
    if ca_file is not None and not isinstance(ca_file, str):
        raise SourcesError(f"source {source.name!r}: settings.ca_file must be a path")
    if not isinstance(verify, bool):
        raise SourcesError(f"source {source.name!r}: settings.verify_tls must be a boolean")
    try:
        context = ssl.create_default_context(cafile=ca_file)
    except OSError as exc:
        raise SourcesError(f"source {source.name!r}: settings.ca_file: {exc.strerror}") from None
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def client_auth(credential: Mapping[str, str]) -> tuple[dict[str, str], httpx.Auth | None]:
    """Broker keys ``token`` (bearer) or ``username`` + ``password`` (basic)."""
    if credential.get("token"):
        return {"Authorization": f"Bearer {credential['token']}"}, None
    if credential.get("username"):
        return {}, httpx.BasicAuth(credential["username"], credential.get("password", ""))
    return {}, None


@dataclass(frozen=True)
class StoreConnection:
    """How a backend reaches its log store: base URL, headers (tenant, bearer
    token), basic auth, timeout and TLS; one client per search."""

    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    auth: httpx.Auth | None = None
    timeout_seconds: float = 10.0
    transport: httpx.AsyncBaseTransport | None = None
    verify: ssl.SSLContext | bool = True

    @classmethod
    def of(
        cls, kind: str, source: SourceConfig, context: SourceContext, **headers: str
    ) -> StoreConnection:
        """The source's URL, the broker's credential and ``headers`` (a tenant's)."""
        if not source.url.startswith(("http://", "https://")):
            raise SourcesError(f"{kind} source {source.name!r} needs an http(s) url")
        auth_headers, auth = client_auth(context.credential(source))
        return cls(
            source.url,
            {**auth_headers, **headers},
            auth,
            source.timeout_seconds,
            verify=tls_context(source),
        )

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.url.rstrip("/"),
            headers=dict(self.headers),
            auth=self.auth,
            timeout=self.timeout_seconds,
            transport=self.transport,
            verify=self.verify,
        )


async def read_capped(response: httpx.Response, limit: int = MAX_BODY_BYTES) -> bytes:
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) > limit:
            raise AnswerTooLarge(f"the log store's answer exceeds {limit // (1024 * 1024)} MiB")
    return bytes(body)


async def bounded_lines(
    response: httpx.Response, max_lines: int, max_line_bytes: int = MAX_RECORD_BYTES
) -> AsyncIterator[bytes | None]:
    """The body's lines, at most ``max_lines``; a line over ``max_line_bytes`` is
    yielded as None (skipped unread), so memory stays bounded whatever is sent."""
    buffer = bytearray()
    skipping = False
    count = 0
    async for chunk in response.aiter_bytes():
        start = 0
        while start < len(chunk):
            end = chunk.find(b"\n", start)
            piece = chunk[start:] if end < 0 else chunk[start:end]
            if not skipping:
                buffer += piece
                if len(buffer) > max_line_bytes:
                    buffer.clear()
                    skipping = True
            if end < 0:
                break
            start = end + 1
            if skipping or buffer.strip():
                yield None if skipping else bytes(buffer)
                count += 1
                if count >= max_lines:
                    return
            buffer.clear()
            skipping = False
    if skipping or buffer.strip():
        yield None if skipping else bytes(buffer)


async def raise_for_store(response: httpx.Response) -> None:
    """4xx: the query was refused (evidence the agent can correct); 5xx: an outage."""
    if response.status_code < 400:
        return
    detail = (await response.aread())[:500].decode("utf-8", "replace").strip()
    if 400 <= response.status_code < 500 and response.status_code not in (401, 403, 404, 429):
        raise QueryRejected(f"HTTP {response.status_code}: {detail}")
    raise httpx.HTTPStatusError(
        f"HTTP {response.status_code} from {response.request.url.path}: {detail}",
        request=response.request,
        response=response,
    )
