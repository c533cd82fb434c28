"""A small, typed HTTP client for the Kubernetes API.

Connection settings (kubeconfig or in-cluster service account) are loaded by
the official ``kubernetes`` client; requests go through urllib3 directly so
that every object stays a plain JSON dict (what server-side apply, dry-run
and drift comparison want), watches stream line by line, and impersonation
is one header. Safe requests are retried (urllib3's ``Retry``) on 429/5xx and
connection errors; everything else surfaces as ``KubeError`` with the
server's reason.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

import urllib3

JSON = dict[str, Any]
APPLY_PATCH = "application/apply-patch+yaml"
MERGE_PATCH = "application/merge-patch+json"
_RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
_RETRY_UNSAFE_STATUS = frozenset({429})
_RETRY_AFTER_MAX_SECONDS = 5
_IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE"})


class KubeError(RuntimeError):
    """The API server said no (or could not be reached: status 0)."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(f"{status} {reason}: {message}" if status else message)
        self.status = status
        self.reason = reason
        self.message = message


@dataclass(frozen=True, slots=True)
class ClusterAccess:
    """Where the API server is and how to prove who we are."""

    server: str
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    token: str | None = field(default=None, repr=False)
    verify: bool = True


def load_access(kubeconfig: str | None = None, context: str | None = None) -> ClusterAccess:
    """From a kubeconfig file, or the pod's service account when ``kubeconfig`` is None
    and we run in a cluster."""
    from kubernetes import client, config

    cfg = client.Configuration()
    if kubeconfig is None:
        try:
            config.load_incluster_config(client_configuration=cfg)  # type: ignore[no-untyped-call]
        except config.ConfigException:
            config.load_kube_config(context=context, client_configuration=cfg)  # type: ignore[no-untyped-call]
    else:
        config.load_kube_config(  # type: ignore[no-untyped-call]
            kubeconfig, context=context, client_configuration=cfg
        )
    bearer = cfg.api_key.get("BearerToken") or cfg.api_key.get("authorization")
    token = str(bearer).removeprefix("Bearer ").strip() if bearer else None
    return ClusterAccess(
        server=str(cfg.host),
        ca_file=cfg.ssl_ca_cert,
        cert_file=cfg.cert_file,
        key_file=cfg.key_file,
        token=token,
        verify=bool(cfg.verify_ssl),
    )


def resource_path(
    api_version: str,
    plural: str,
    namespace: str | None = None,
    name: str | None = None,
    subresource: str | None = None,
) -> str:
    base = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
    if namespace:
        base += f"/namespaces/{quote(namespace, safe='')}"
    base += f"/{plural}"
    if name:
        base += f"/{quote(name, safe='')}"
    if subresource:
        base += f"/{subresource}"
    return base


class KubeApi:
    """One identity's view of the API server; ``impersonate`` gives another's."""

    def __init__(
        self,
        access: ClusterAccess,
        *,
        impersonate_user: str | None = None,
        retries: int = 4,
        backoff_seconds: float = 0.2,
        timeout_seconds: float = 30.0,
        pool: urllib3.PoolManager | None = None,
    ) -> None:
        self.access = access
        self.impersonated = impersonate_user
        self._retries = retries
        self._backoff = backoff_seconds
        self._timeout = timeout_seconds
        self._pool = pool or _pool_for(access)
        self._lock = threading.Lock()
        self.calls = 0  # requests sent (the benchmark counts API calls per investigation)

    def impersonate(self, user: str) -> KubeApi:
        return KubeApi(
            self.access,
            impersonate_user=user,
            retries=self._retries,
            backoff_seconds=self._backoff,
            timeout_seconds=self._timeout,
            pool=self._pool,
        )

    def impersonate_service_account(self, namespace: str, name: str) -> KubeApi:
        # Without explicit groups the API server adds the service-account groups itself.
        return self.impersonate(f"system:serviceaccount:{namespace}:{name}")

    # -- verbs ------------------------------------------------------------------------

    def get(self, path: str, query: Mapping[str, Any] | None = None) -> JSON:
        return self.request("GET", path, query=query)

    def get_text(self, path: str, query: Mapping[str, Any] | None = None) -> str:
        return self._send("GET", path, query, None, None).decode("utf-8", errors="replace")

    def create(self, path: str, body: JSON, *, dry_run: bool = False) -> JSON:
        return self.request("POST", path, body=body, query=_dry(dry_run))

    def delete(self, path: str, *, propagation: str = "Background", dry_run: bool = False) -> JSON:
        body: JSON = {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": propagation}
        if dry_run:
            body["dryRun"] = ["All"]
        return self.request("DELETE", path, body=body)

    def merge_patch(self, path: str, patch: JSON, *, dry_run: bool = False) -> JSON:
        return self.request(
            "PATCH", path, body=patch, content_type=MERGE_PATCH, query=_dry(dry_run)
        )

    def apply(
        self, path: str, obj: JSON, *, field_manager: str, force: bool = True, dry_run: bool = False
    ) -> JSON:
        """Server-side apply: the server merges and records field ownership."""
        query: dict[str, Any] = {"fieldManager": field_manager, "force": str(force).lower()}
        query.update(_dry(dry_run))
        # Apply is idempotent, so it is retried like a PUT.
        return self.request("PATCH", path, body=obj, content_type=APPLY_PATCH, query=query)

    def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        query: Mapping[str, Any] | None = None,
        content_type: str = "application/json",
    ) -> JSON:
        payload = json.dumps(body).encode() if body is not None else None
        data = self._send(method, path, query, payload, content_type)
        if not data:
            return {}
        decoded: JSON = json.loads(data)
        return decoded

    def watch(
        self, path: str, query: Mapping[str, Any], *, timeout_seconds: int = 300
    ) -> Iterator[JSON]:
        """One watch request: yields its events until the server closes the stream."""
        params = {**query, "watch": "true", "timeoutSeconds": str(timeout_seconds)}
        params.setdefault("allowWatchBookmarks", "true")
        resp = self._open("GET", path, params, None, None, timeout_seconds + 15)
        try:
            if resp.status >= 400:
                raise _error(resp.status, resp.reason or "", resp.read())
            buffer = b""
            try:
                for chunk in resp.stream(64 * 1024):
                    buffer += chunk
                    while b"\n" in buffer:
                        line, buffer = buffer.split(b"\n", 1)
                        if line.strip():
                            event: JSON = json.loads(line)
                            yield event
            except urllib3.exceptions.HTTPError as exc:
                raise KubeError(0, "Unreachable", f"watch stream broken: {exc}") from exc
        finally:
            # A watch left early still has an open stream: close it, never hand the
            # half-read connection back to the pool for the next request to trip over.
            resp.close()
            resp.release_conn()

    # -- transport --------------------------------------------------------------------

    def _headers(self, content_type: str | None) -> dict[str, str]:
        headers = {"Accept": "application/json", "User-Agent": "nightshift"}
        if content_type:
            headers["Content-Type"] = content_type
        if self.access.token:
            headers["Authorization"] = f"Bearer {self.access.token}"
        if self.impersonated:
            headers["Impersonate-User"] = self.impersonated
        return headers

    def _open(
        self,
        method: str,
        path: str,
        query: Mapping[str, Any] | None,
        payload: bytes | None,
        content_type: str | None,
        timeout: float,
        retries: urllib3.Retry | None = None,
    ) -> urllib3.BaseHTTPResponse:
        """One request; ``retries=None`` sends it once and leaves the body unread (a watch)."""
        url = self.access.server.rstrip("/") + path
        if query:
            url += "?" + urlencode({k: v for k, v in query.items() if v is not None})
        with self._lock:
            self.calls += 1
        return self._pool.request(
            method,
            url,
            body=payload,
            headers=self._headers(content_type),
            timeout=urllib3.Timeout(connect=5.0, read=timeout),
            # With retries the body is read inside urllib3, so a read broken mid-body
            # is retried like any other read error.
            preload_content=retries is not None,
            retries=retries if retries is not None else False,
        )

    def _send(
        self,
        method: str,
        path: str,
        query: Mapping[str, Any] | None,
        payload: bytes | None,
        content_type: str | None,
    ) -> bytes:
        """The response body of a successful request (after retries)."""
        safe = method in _IDEMPOTENT or content_type == APPLY_PATCH
        try:
            resp = self._open(
                method, path, query, payload, content_type, self._timeout, self._retry(safe)
            )
        except urllib3.exceptions.HTTPError as exc:
            with self._lock:
                # Given up unanswered: every attempt it had was sent.
                self.calls += self._retries if safe else 0
            raise KubeError(0, "Unreachable", f"API server unreachable: {exc}") from exc
        if resp.retries is not None:
            with self._lock:
                self.calls += len(resp.retries.history)
        if resp.status >= 400:
            raise _error(resp.status, resp.reason or "", resp.data)
        return resp.data

    def _retry(self, safe: bool) -> _Retry:
        """urllib3's retry policy for one request.

        A safe request (idempotent, or server-side apply) is sent again on a refused or
        broken connection, a read timeout, 429 and 5xx; anything else only on 429, which
        the server answers before doing anything. A Retry-After (capped at 5 s) replaces
        the backoff, which urllib3 starts at the second retry: 0, 2b, 4b, ...
        """
        return _Retry(
            total=self._retries,
            connect=None if safe else 0,
            read=None if safe else 0,
            other=None if safe else 0,
            redirect=False,
            allowed_methods=None,  # every verb: ``safe`` decides, not urllib3's list
            status_forcelist=_RETRY_STATUS if safe else _RETRY_UNSAFE_STATUS,
            backoff_factor=self._backoff,
            respect_retry_after_header=True,
            retry_after_max=_RETRY_AFTER_MAX_SECONDS,
            raise_on_status=False,
        )


class _Retry(urllib3.Retry):
    """urllib3's Retry, except that a Retry-After never makes a status retryable by
    itself (urllib3 retries 413/503 that carry one on any method): a 503 on a create
    may come after the object was stored. Only the status list decides."""

    RETRY_AFTER_STATUS_CODES = frozenset()


def _pool_for(access: ClusterAccess) -> urllib3.PoolManager:
    kwargs: dict[str, Any] = {"maxsize": 16, "block": False}
    if access.server.startswith("https"):
        kwargs["cert_reqs"] = "CERT_REQUIRED" if access.verify else "CERT_NONE"
        if access.ca_file:
            kwargs["ca_certs"] = access.ca_file
        if access.cert_file:
            kwargs["cert_file"] = access.cert_file
            kwargs["key_file"] = access.key_file
    return urllib3.PoolManager(num_pools=4, **kwargs)


def _dry(dry_run: bool) -> dict[str, Any]:
    return {"dryRun": "All"} if dry_run else {}


def _error(status: int, reason: str, data: bytes) -> KubeError:
    try:
        body = json.loads(data)
        message = str(body.get("message", "")) or data.decode(errors="replace")
        reason = str(body.get("reason", reason)) or reason
    except ValueError:
        message = data.decode(errors="replace")[:500]
    return KubeError(status, reason, message)
