"""Prometheus as a source: ``prometheus_query`` (range queries) and ``kubectl_top``
from the cAdvisor and node_exporter series it scrapes.

Bounded at every step: the step is chosen so a series has at most
``max_points_per_series`` points; at most ``max_series`` series are shown (the
highest peaks) and the rest are counted; reading stops after
``max_total_points`` points or ``max_fetch_bytes`` bytes, with a marker saying
so. Credentials (broker keys ``token``, or ``username`` and ``password``) become
the Authorization header; ``settings.headers`` adds others (a tenant header).
"""

from __future__ import annotations

import heapq
import math
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import aclosing
from typing import Any

from pydantic import Field

from nightshift.agent.tools.catalog import KUBECTL_TOP, PROMETHEUS_QUERY
from nightshift.agent.tools.protocol import ToolCall, ToolResult, Toolset, ToolSpec, ToolStatus
from nightshift.sources.config import SourceConfig
from nightshift.sources.context import SourceContext
from nightshift.sources.http_client import HttpEndpoint, HttpSettings, parse_settings
from nightshift.sources.json_stream import StreamCut
from nightshift.sources.prometheus_api import PrometheusApi, PrometheusError
from nightshift.sources.prometheus_render import SeriesSummary, render, summarize
from nightshift.sources.prometheus_top import TopQueries, kubectl_top, namespace_matcher
from nightshift.sources.promql_scope import PromQLScopeError, confine

MARKER = "[truncated by nightshift: {what}; narrow the query with label matchers or aggregate it]"


class PrometheusSettings(HttpSettings):
    max_series: int = Field(default=50, ge=1, le=1000)
    max_points_per_series: int = Field(default=120, ge=10, le=11_000)
    max_total_points: int = Field(default=200_000, ge=1_000, le=10_000_000)
    max_fetch_bytes: int = Field(default=32 << 20, ge=64 << 10, le=1 << 30)
    min_step_seconds: float = Field(default=1.0, gt=0, le=3600)
    cadvisor: bool = True  # answer kubectl_top from cAdvisor/node_exporter series
    cadvisor_window: str = Field(default="5m", pattern=r"^[1-9][0-9]*(s|m|h)$")
    node_label: str = Field(default="instance", pattern=r"^[a-zA-Z_][a-zA-Z0-9_]*$")
    max_top_rows: int = Field(default=200, ge=1, le=5000)


def build(source: SourceConfig, context: SourceContext) -> Toolset:
    settings = parse_settings(PrometheusSettings, source)
    endpoint = HttpEndpoint(source, settings, context.credential(source))
    return PrometheusToolset(source, settings, endpoint, context.namespaces)


class PrometheusToolset:
    def __init__(
        self,
        source: SourceConfig,
        settings: PrometheusSettings,
        endpoint: HttpEndpoint,
        namespaces: frozenset[str],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._source = source
        self._settings = settings
        self._api = PrometheusApi(endpoint, settings.max_fetch_bytes)
        self._namespaces = namespaces
        self._clock = clock
        self._specs: tuple[ToolSpec, ...] = (
            (PROMETHEUS_QUERY, KUBECTL_TOP) if settings.cadvisor else (PROMETHEUS_QUERY,)
        )

    def specs(self) -> Sequence[ToolSpec]:
        return self._specs

    async def call(self, call: ToolCall) -> ToolResult:
        if call.name == PROMETHEUS_QUERY.name:
            return await self.query(call.params)
        if call.name == KUBECTL_TOP.name and self._settings.cadvisor:
            queries = TopQueries(self._settings.cadvisor_window, self._settings.node_label)
            try:
                return await kubectl_top(
                    self._api,
                    queries,
                    call.params,
                    self._namespaces,
                    self._settings.max_top_rows,
                    self._source.timeout_seconds,
                )
            except (PrometheusError, StreamCut) as exc:
                why = f"prometheus: {exc}"
                return ToolResult(ToolStatus.ERROR, f"error: {why}", error=why)
        why = f"{call.name} is not answered by a prometheus source"
        return ToolResult(ToolStatus.NO_DATA, why, error=why)

    def step_for(self, range_seconds: float) -> float:
        """The smallest step (whole seconds) that keeps a series within the point budget."""
        per_series = self._settings.max_points_per_series
        step = math.ceil(range_seconds / (per_series - 1))
        return float(max(step, self._settings.min_step_seconds))

    async def query(self, params: Mapping[str, Any]) -> ToolResult:
        query = str(params.get("query") or "").strip()
        if not query:
            return _error("prometheus_query needs a PromQL query")
        # A query names no namespace policy could check: an agent confined to some
        # namespaces has every selector held to them (sources/promql_scope.py).
        scope = namespace_matcher(self._namespaces, None)
        if scope:
            try:
                query = confine(query, scope.removeprefix(","))
            except PromQLScopeError as exc:
                return _error(
                    f"refused: {exc}; the query could not be held to this agent's namespaces"
                )
        try:
            minutes = int(params.get("range_minutes") or 60)
        except (TypeError, ValueError):
            return _error("range_minutes must be a whole number of minutes")
        if not 1 <= minutes <= 1440:
            return _error("range_minutes must be between 1 and 1440")
        range_seconds = minutes * 60.0
        end = self._clock()
        step = self.step_for(range_seconds)
        limit = self._settings.max_series
        kept: list[tuple[float, int, SeriesSummary]] = []  # min-heap on peak: the top N stay
        total = points = 0
        cut: str | None = None
        # Evaluation points fall on start + k * step: the start is moved so the last
        # one is exactly now, or data newer than the last point would not be seen.
        start = end - math.ceil(range_seconds / step) * step
        stream = self._api.range(query, start, end, step, self._source.timeout_seconds)
        try:
            async with aclosing(stream) as series_stream:
                async for series in series_stream:
                    total += 1
                    points += len(series.points)
                    summary = summarize(series, end, range_seconds, step)
                    item = (summary.peak, -total, summary)  # -total: ties never compare summaries
                    if len(kept) < limit:
                        heapq.heappush(kept, item)
                    elif item > kept[0]:
                        heapq.heapreplace(kept, item)
                    if points > self._settings.max_total_points:
                        cut = (
                            f"reading stopped at {points} points "
                            f"(limit {self._settings.max_total_points}) after {total} series"
                        )
                        break
        except StreamCut as exc:
            cut = f"reading stopped at {exc.max_bytes} bytes after {exc.elements} series"
        except PrometheusError as exc:
            text = f"query: {query}\nERROR: {exc.error_type}: {exc.message}"
            return ToolResult(ToolStatus.ERROR, text, error=f"prometheus: {exc}")
        if total == 0 and cut:
            return _error(f"refused: {cut}; narrow the query")
        if total == 0:
            empty = f"query: {query}\nempty result: no series matched"
            return ToolResult(ToolStatus.NO_DATA, empty)
        shown = [s for _, _, s in kept]
        text = render(query, range_seconds, step, shown, total)
        if cut:
            text += "\n" + MARKER.format(what=f"{cut}, so there are at least {total} series")
        elif total > len(shown):
            text += "\n" + MARKER.format(what=f"{total - len(shown)} more series not shown")
        data = {
            "step_seconds": step,
            "total_series": total,
            "complete": cut is None,
            "series": [
                {"series": s.label, "min": _num(s.low), "max": _num(s.high), "trend": s.trend}
                for s in sorted(shown, key=lambda s: s.label)
            ],
        }
        return ToolResult(ToolStatus.OK, text, data)


def _num(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) or math.isinf(value) else value


def _error(why: str) -> ToolResult:
    return ToolResult(ToolStatus.ERROR, f"ERROR: {why}", error=why)
