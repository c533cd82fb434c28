"""HTTP plumbing shared by the HTTP-API sources (Prometheus, Alertmanager).

Credentials come from the broker (keys ``token``, or ``username`` and
``password``); extra headers (a tenant header for Mimir or Cortex, say) from the
source's settings. A client is opened per call: with the TLS context built once
per source that costs a fraction of a millisecond, and no connection outlives
the call that needed it (nothing to close when the worker ends).
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Mapping
from typing import TYPE_CHECKING, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from nightshift.sources.config import SourceConfig, SourcesError

if TYPE_CHECKING:
    import httpx

T = TypeVar("T", bound=BaseModel)
ERROR_BODY_BYTES = 64 * 1024  # an error answer is read this far, never further


class HttpSettings(BaseModel):
    """Connection settings every HTTP source accepts (beside its own)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    headers: dict[str, str] = Field(default_factory=dict)
    verify_tls: bool = True
    ca_file: str | None = None


def parse_settings(model: type[T], source: SourceConfig) -> T:
    """``source.settings`` as ``model``, or a SourcesError that names the source."""
    try:
        return model.model_validate(source.settings)
    except ValidationError as exc:
        problems = "; ".join(
            f"settings.{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise SourcesError(f"source {source.name!r} ({source.kind.value}): {problems}") from None


def auth_headers(credential: Mapping[str, str]) -> dict[str, str]:
    """Authorization from the broker's credential: a bearer token wins over basic auth."""
    import base64

    token = credential.get("token")
    if token:
        return {"Authorization": f"Bearer {token}"}
    user, password = credential.get("username"), credential.get("password")
    if user and password is not None:
        pair = base64.b64encode(f"{user}:{password}".encode()).decode()
        return {"Authorization": f"Basic {pair}"}
    return {}


class HttpEndpoint:
    """One source's base URL, headers and TLS settings; ``client()`` per call."""

    def __init__(
        self,
        source: SourceConfig,
        settings: HttpSettings,
        credential: Mapping[str, str],
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if not source.url.startswith(("http://", "https://")):
            raise SourcesError(
                f"source {source.name!r} ({source.kind.value}) needs an http:// or https:// url"
            )
        reserved = {k for k in settings.headers if k.lower() == "authorization"}
        if reserved:
            raise SourcesError(
                f"source {source.name!r}: settings.headers may not set Authorization "
                "(store a token or username/password in the secret broker)"
            )
        ca_file = settings.ca_file
        if ca_file and not os.path.isfile(ca_file):
            why = f"settings.ca_file {ca_file!r} is not a file"
            raise SourcesError(f"source {source.name!r}: {why}")
        self.url = source.url.rstrip("/")
        self._timeout = source.timeout_seconds
        self._headers = {**settings.headers, **auth_headers(credential)}
        self._settings = settings
        self._transport = transport
        self._tls: ssl.SSLContext | bool | None = None

    def _verify(self) -> ssl.SSLContext | bool:
        if not self.url.startswith("https://") or not self._settings.verify_tls:
            return False
        if self._tls is None:
            self._tls = ssl.create_default_context(cafile=self._settings.ca_file)
        return self._tls

    def client(self) -> httpx.AsyncClient:
        import httpx

        return httpx.AsyncClient(
            base_url=self.url,
            headers=self._headers,
            timeout=self._timeout,
            verify=self._verify(),
            transport=self._transport,
            follow_redirects=False,
        )


async def read_capped(response: httpx.Response, limit: int = ERROR_BODY_BYTES) -> bytes:
    """At most ``limit`` bytes of a streamed body (error answers, small answers)."""
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) >= limit:
            break
    return bytes(body[:limit])
