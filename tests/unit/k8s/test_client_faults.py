"""API faults: retried with backoff where that is safe, a named error otherwise."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from nightshift.k8s.client import ClusterAccess, KubeApi, KubeError


class Script:
    """Answers requests with a queued (status, body, headers) per request."""

    def __init__(self) -> None:
        self.answers: list[tuple[int, dict[str, object], dict[str, str]]] = []
        self.seen: list[str] = []


@pytest.fixture
def server() -> Iterator[tuple[Script, str]]:
    script = Script()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            script.seen.append(f"{self.command} {self.path}")
            status, body, headers = script.answers.pop(0) if script.answers else (200, {}, {})
            data = json.dumps(body).encode()
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_DELETE = do_PATCH = _answer  # noqa: N815

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield script, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def api(url: str) -> KubeApi:
    return KubeApi(ClusterAccess(url), retries=3, backoff_seconds=0.01)


def status(code: int, reason: str, message: str) -> dict[str, object]:
    return {"kind": "Status", "code": code, "reason": reason, "message": message}


def test_reads_are_retried_through_server_errors(server: tuple[Script, str]) -> None:
    script, url = server
    script.answers = [
        (503, status(503, "ServiceUnavailable", "etcd"), {}),
        (500, status(500, "InternalError", "x"), {}),
        (200, {"kind": "Pod", "metadata": {"name": "p"}}, {}),
    ]
    client = api(url)
    assert client.get("/api/v1/namespaces/a/pods/p")["metadata"]["name"] == "p"
    assert len(script.seen) == 3
    assert client.calls == 3  # every attempt is a request the benchmarks count


def test_a_create_is_not_retried_on_a_server_error_but_is_on_429(
    server: tuple[Script, str],
) -> None:
    script, url = server
    script.answers = [
        (429, status(429, "TooManyRequests", "slow down"), {"Retry-After": "0"}),
        (201, {"metadata": {"name": "j"}}, {}),
    ]
    assert api(url).create("/apis/batch/v1/namespaces/a/jobs", {})["metadata"]["name"] == "j"
    script.answers = [(500, status(500, "InternalError", "boom"), {})]
    with pytest.raises(KubeError) as err:
        api(url).create("/apis/batch/v1/namespaces/a/jobs", {})
    assert (err.value.status, err.value.reason) == (500, "InternalError")
    assert len(script.seen) == 3


def test_conflict_and_invalid_are_reported_with_the_servers_reason(
    server: tuple[Script, str],
) -> None:
    script, url = server
    script.answers = [
        (409, status(409, "AlreadyExists", 'jobs "j" already exists'), {}),
        (422, status(422, "Invalid", "spec.backoffLimit: Invalid"), {}),
    ]
    with pytest.raises(KubeError) as conflict:
        api(url).create("/apis/batch/v1/namespaces/a/jobs", {})
    assert conflict.value.status == 409 and "already exists" in conflict.value.message
    with pytest.raises(KubeError) as invalid:
        api(url).create("/apis/batch/v1/namespaces/a/jobs", {})
    assert invalid.value.reason == "Invalid"
    assert len(script.seen) == 2  # neither is retried


def test_unreachable_api_server_is_a_named_error_after_bounded_retries() -> None:
    with pytest.raises(KubeError) as err:
        api("http://127.0.0.1:9").get("/version")
    assert err.value.status == 0
    assert "unreachable" in str(err.value)


def test_a_retry_after_does_not_make_a_create_retryable(server: tuple[Script, str]) -> None:
    script, url = server
    # a 503 may come after the object was stored: only 429 is safe to send again
    script.answers = [(503, status(503, "ServiceUnavailable", "busy"), {"Retry-After": "0"})]
    with pytest.raises(KubeError) as err:
        api(url).create("/apis/batch/v1/namespaces/a/jobs", {})
    assert err.value.status == 503
    assert len(script.seen) == 1
