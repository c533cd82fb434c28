"""A local stand-in for Grafana Loki's query API, for the Loki backend's unit tests.

Loki itself cannot be had here (no registry ships it and its AGPL module is not
built), so this server holds the adapter to the wire format of Loki's HTTP API
reference: it validates each request as Loki would (``query`` present, ``start``,
``end`` and ``time`` nanosecond epochs, ``limit`` an integer, ``direction``
forward|backward) and answers 400 with Loki's plain-text error otherwise. Valid
requests are recorded and answered with the canned streams (at most ``limit``
entries, in the asked direction, in the documented ``streams`` shape) or, for the
instant count query, a one-sample ``vector``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

Stream = tuple[Mapping[str, str], Sequence[tuple[int, str]]]


@dataclass
class Request:
    path: str
    params: dict[str, str]
    headers: dict[str, str]


@dataclass
class FakeLoki:
    streams: list[Stream] = field(default_factory=list)
    count: int = 0
    status: int = 200  # a non-200 answers every (valid) request with this status
    error: bytes = b"upstream failure"  # and this plain-text body
    raw: bytes | None = None  # answered verbatim (garbage tests)
    requests: list[Request] = field(default_factory=list)
    url: str = ""

    def answer(self, path: str, params: dict[str, str]) -> tuple[int, bytes]:
        problem = _invalid(path, params)
        if problem:
            return 400, problem.encode()
        if self.status != 200:
            return self.status, self.error
        if self.raw is not None:
            return 200, self.raw
        if path.endswith("/query_range"):
            return 200, json.dumps(self._streams(params)).encode()
        vector = [{"metric": {}, "value": [int(params["time"]) / 1e9, str(self.count)]}]
        body = {"status": "success", "data": {"resultType": "vector", "result": vector}}
        return 200, json.dumps(body).encode()

    def _streams(self, params: dict[str, str]) -> dict[str, Any]:
        backward = params.get("direction", "backward") == "backward"
        entries = [(ts, labels, line) for labels, values in self.streams for ts, line in values]
        entries.sort(key=lambda e: e[0], reverse=backward)
        kept = entries[: int(params.get("limit", "100"))]
        result = []
        for labels, _ in self.streams:
            values = [[str(ts), line] for ts, lab, line in kept if lab is labels]
            if values:
                result.append({"stream": dict(labels), "values": values})
        return {"status": "success", "data": {"resultType": "streams", "result": result}}


def _invalid(path: str, params: dict[str, str]) -> str | None:
    if path not in ("/loki/api/v1/query_range", "/loki/api/v1/query"):
        return f"404 page not found: {path}"
    if not params.get("query"):
        return "parse error : syntax error: unexpected $end"
    for key in ("start", "end", "time", "limit"):
        if key in params and not params[key].isdigit():
            return f'invalid parameter "{key}": not an integer'
    if params.get("direction", "backward") not in ("forward", "backward"):
        return 'invalid parameter "direction"'
    if "start" in params and "end" in params and int(params["start"]) > int(params["end"]):
        return "end timestamp must not be before or equal to start time"
    return None


@contextmanager
def running(fake: FakeLoki) -> Iterator[FakeLoki]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlsplit(self.path)
            params = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
            fake.requests.append(
                Request(url.path, params, {k.lower(): v for k, v in self.headers.items()})
            )
            status, body = fake.answer(url.path, params)
            self.send_response(status)
            kind = "application/json" if status == 200 else "text/plain; charset=utf-8"
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
