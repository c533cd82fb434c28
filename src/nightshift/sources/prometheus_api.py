"""The Prometheus HTTP API, read as a stream (``/api/v1/query``, ``/api/v1/query_range``).

Answers are folded series by series (``json_stream``) so a query that matches a
million series costs one series of memory; the caller decides what to keep.
Prometheus' own errors (bad PromQL, too many samples, evaluation timeout) come
back as ``PrometheusError`` with its ``errorType`` and message, because they are
answers about the query, not signs that the source is down.
"""

from __future__ import annotations

import json
import math
from collections.abc import AsyncGenerator, Mapping
from dataclasses import dataclass
from typing import Any

from nightshift.sources.http_client import HttpEndpoint, read_capped
from nightshift.sources.json_stream import array_elements

RESULT = r'"result"\s*:\s*\['
LONG_QUERY = 4000  # longer PromQL goes in a POST form body (URL length limits)


class PrometheusError(Exception):
    """Prometheus refused or failed the query and said why."""

    def __init__(self, status: int, error_type: str, message: str) -> None:
        super().__init__(f"{error_type}: {message}")
        self.status = status
        self.error_type = error_type
        self.message = message


class SourceHttpError(RuntimeError):
    """A non-API answer (a proxy's 502, an HTML login page): the source is unusable."""


@dataclass(frozen=True, slots=True)
class Series:
    labels: Mapping[str, str]
    points: tuple[tuple[float, float], ...]  # (unix seconds, value), value may be NaN

    @property
    def name(self) -> str:
        return self.labels.get("__name__", "")


def _float(raw: Any) -> float:
    try:
        return float(raw)
    except (TypeError, ValueError):
        return math.nan


def series_of(element: Mapping[str, Any]) -> Series:
    """One result element, matrix (``values``) or vector (``value``)."""
    metric = element.get("metric") or {}
    raw = element.get("values")
    if raw is None:
        raw = [element["value"]] if "value" in element else []
    points = tuple((float(ts), _float(v)) for ts, v in raw)
    return Series({str(k): str(v) for k, v in metric.items()}, points)


def error_from(status: int, body: bytes) -> Exception:
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if isinstance(data, dict) and data.get("status") == "error":
        return PrometheusError(
            status, str(data.get("errorType") or "error"), str(data.get("error") or "")
        )
    snippet = body[:200].decode("utf-8", errors="replace").strip()
    return SourceHttpError(f"HTTP {status} from Prometheus: {snippet or '(empty body)'}")


class PrometheusApi:
    def __init__(self, endpoint: HttpEndpoint, max_fetch_bytes: int) -> None:
        self._endpoint = endpoint
        self._max_bytes = max_fetch_bytes

    async def stream(
        self, path: str, params: Mapping[str, str], timeout_seconds: float
    ) -> AsyncGenerator[Series, None]:
        """Each result series of one query; raises PrometheusError, StreamCut, ..."""
        # Prometheus stops evaluating at its own timeout; a little under ours, so
        # an expensive query comes back as Prometheus' "timeout" answer.
        form = {**params, "timeout": f"{int(max(timeout_seconds * 0.9, 0.5) * 1000)}ms"}
        long = sum(len(v) for v in form.values()) > LONG_QUERY
        async with self._endpoint.client() as client:
            request = (
                client.build_request("POST", path, data=form)
                if long
                else client.build_request("GET", path, params=form)
            )
            response = await client.send(request, stream=True)
            try:
                if response.status_code != 200:
                    raise error_from(response.status_code, await read_capped(response))
                async for element in array_elements(
                    response.aiter_bytes(), opening=RESULT, max_bytes=self._max_bytes
                ):
                    yield series_of(element)
            finally:
                await response.aclose()

    def range(
        self, query: str, start: float, end: float, step: float, timeout_seconds: float
    ) -> AsyncGenerator[Series, None]:
        params = {"query": query, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": f"{step:g}"}
        return self.stream("/api/v1/query_range", params, timeout_seconds)

    async def instant(self, query: str, timeout_seconds: float) -> list[Series]:
        return [s async for s in self.stream("/api/v1/query", {"query": query}, timeout_seconds)]
