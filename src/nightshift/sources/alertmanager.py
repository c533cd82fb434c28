"""Alertmanager as a source: ``list_alerts`` from its API v2.

``GET /api/v2/alerts?active=true&silenced=false&inhibited=false``, with the
tool's ``severity`` and ``domain`` and the agent's namespaces as label matchers,
so Alertmanager does the filtering. The answer is streamed and folded alert by
alert into a summary (``alert_summary``); reading stops at ``max_fetch_bytes``
and the summary then says its counts are lower bounds. An alert without a
domain label belongs to the source's domain; one without a namespace label
(a node, the cluster) is visible to every agent.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import aclosing
from datetime import UTC, datetime
from typing import Any

from pydantic import Field

from nightshift.agent.tools.alert_summary import AlertFold, render
from nightshift.agent.tools.catalog import LIST_ALERTS
from nightshift.agent.tools.protocol import ToolCall, ToolResult, Toolset, ToolSpec, ToolStatus
from nightshift.domain.agents import ALL_NAMESPACES
from nightshift.sources.config import SourceConfig
from nightshift.sources.context import SourceContext
from nightshift.sources.http_client import HttpEndpoint, HttpSettings, parse_settings, read_capped
from nightshift.sources.json_stream import StreamCut, array_elements

_LABEL = r"^[a-zA-Z_][a-zA-Z0-9_]*$"
_FRACTION = re.compile(r"(\.\d{6})\d+")
DEFAULT_TARGET_LABELS = (
    "service", "deployment", "statefulset", "daemonset", "job_name", "pod", "instance", "node",
)  # fmt: skip


class AlertmanagerSettings(HttpSettings):
    max_fetch_bytes: int = Field(default=64 << 20, ge=64 << 10, le=1 << 30)
    domain_label: str = Field(default="domain", pattern=_LABEL)
    severity_label: str = Field(default="severity", pattern=_LABEL)
    namespace_label: str = Field(default="namespace", pattern=_LABEL)
    # The first of these an alert carries names its target (after its namespace).
    target_labels: tuple[str, ...] = DEFAULT_TARGET_LABELS
    include_silenced: bool = False
    include_inhibited: bool = False
    max_summary_chars: int = Field(default=120, ge=20, le=2000)


def build(source: SourceConfig, context: SourceContext) -> Toolset:
    settings = parse_settings(AlertmanagerSettings, source)
    endpoint = HttpEndpoint(source, settings, context.credential(source))
    return AlertmanagerToolset(source, settings, endpoint, context.namespaces)


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def parse_time(raw: str) -> float:
    """Alertmanager's RFC 3339 times (Go may print nanoseconds; Python takes micro)."""
    if raw.endswith("Z") and len(raw) >= 20:  # the usual UTC form, parsed cheaply
        whole = datetime.fromisoformat(raw[:19]).replace(tzinfo=UTC).timestamp()
        fraction = raw[19:-1]
        return whole + float(fraction) if fraction.startswith(".") else whole
    return datetime.fromisoformat(_FRACTION.sub(r"\1", raw)).timestamp()


class AlertmanagerToolset:
    def __init__(
        self,
        source: SourceConfig,
        settings: AlertmanagerSettings,
        endpoint: HttpEndpoint,
        namespaces: frozenset[str],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._source = source
        self._settings = settings
        self._endpoint = endpoint
        self._namespaces = namespaces
        self._clock = clock

    def specs(self) -> Sequence[ToolSpec]:
        return (LIST_ALERTS,)

    async def call(self, call: ToolCall) -> ToolResult:
        if call.name != LIST_ALERTS.name:
            why = f"{call.name} is not answered by an alertmanager source"
            return ToolResult(ToolStatus.NO_DATA, why, error=why)
        return await self.list_alerts(call.params)

    def matchers(self, params: Mapping[str, Any]) -> list[str]:
        s = self._settings
        out: list[str] = []
        severity = str(params.get("severity") or "")
        if severity:
            out.append(f"{s.severity_label}={_quote(severity)}")
        domain = str(params.get("domain") or "")
        if domain == self._source.domain.value:  # unlabelled alerts are this source's
            out.append(f"{s.domain_label}=~{_quote(re.escape(domain) + '|')}")
        elif domain:
            out.append(f"{s.domain_label}={_quote(domain)}")
        if ALL_NAMESPACES not in self._namespaces:
            allowed = "|".join(re.escape(n) for n in sorted(self._namespaces))
            out.append(f"{s.namespace_label}=~{_quote(allowed + '|')}")
        return out

    def target(self, labels: Mapping[str, str]) -> str:
        namespace = labels.get(self._settings.namespace_label, "")
        name = next((labels[k] for k in self._settings.target_labels if labels.get(k)), "")
        if namespace and name:
            return f"{namespace}/{name}"
        return namespace or name or "cluster"

    def _summary(self, annotations: Mapping[str, str]) -> str:
        """The words a reader needs (raw here; ``_tidy`` shortens the groups' only)."""
        return str(
            annotations.get("description")
            or annotations.get("summary")
            or annotations.get("message")
            or ""
        )

    def _tidy(self, text: str) -> str:
        text = " ".join(text.split())
        limit = self._settings.max_summary_chars
        return text if len(text) <= limit else text[: limit - 3] + "..."

    def _fold(self, fold: AlertFold, alert: Mapping[str, Any]) -> None:
        # JSON objects of strings, as API v2 promises; 30,000 of them, so not copied.
        labels: Mapping[str, str] = alert.get("labels") or {}
        annotations: Mapping[str, str] = alert.get("annotations") or {}
        s = self._settings
        fold.add(
            str(labels.get("alertname", "(unnamed)")),
            str(labels.get(s.severity_label, "")),
            self.target(labels),
            str(labels.get(s.domain_label) or self._source.domain.value),
            self._summary(annotations),
            parse_time(str(alert.get("startsAt") or "1970-01-01T00:00:00Z")),
        )

    async def list_alerts(self, params: Mapping[str, Any]) -> ToolResult:
        s = self._settings
        query: list[tuple[str, str | int | float | bool | None]] = [
            ("active", "true"),
            ("silenced", str(s.include_silenced).lower()),
            ("inhibited", str(s.include_inhibited).lower()),
        ]
        query += [("filter", m) for m in self.matchers(params)]
        fold = AlertFold()
        complete = True
        async with self._endpoint.client() as client:
            request = client.build_request("GET", "/api/v2/alerts", params=query)
            response = await client.send(request, stream=True)
            try:
                if response.status_code != 200:
                    body = (await read_capped(response)).decode("utf-8", errors="replace")
                    message = body.strip()[:300] or "(empty body)"
                    if response.status_code == 400:  # Alertmanager rejected a matcher
                        text = f"ERROR: alertmanager rejected the request: {message}"
                        return ToolResult(ToolStatus.ERROR, text, error=text)
                    raise RuntimeError(f"HTTP {response.status_code} from Alertmanager: {message}")
                stream = array_elements(response.aiter_bytes(), max_bytes=s.max_fetch_bytes)
                async with aclosing(stream) as alerts:
                    async for alert in alerts:
                        self._fold(fold, alert)
            except StreamCut:
                complete = False
            finally:
                await response.aclose()
        for group in fold.groups.values():
            group.summary = self._tidy(group.summary)
        if fold.total == 0:
            where = f" matching {', '.join(str(m) for _, m in query[3:])}" if len(query) > 3 else ""
            return ToolResult(ToolStatus.NO_DATA, f"no alerts firing{where}")
        marker = (
            ""
            if complete
            else f"\n[truncated by nightshift: reading stopped at {s.max_fetch_bytes} bytes; "
            "the counts above are lower bounds; filter by severity or domain]"
        )
        budget = self._source.max_answer_chars - len(marker)
        text = render(fold, self._clock(), budget, complete) + marker
        groups = sorted(fold.groups.values(), key=lambda g: (-g.last, -g.count))
        data = {
            "total": fold.total,
            "complete": complete,
            "groups": len(fold.groups),
            "by_severity": dict(fold.severities),
            "newest": [
                {
                    "name": g.name,
                    "severity": g.severity,
                    "domain": g.domain,
                    "target": g.target,
                    "count": g.count,
                    "first_seen": g.first,
                    "last_seen": g.last,
                    "summary": g.summary,
                }
                for g in groups[:50]
            ],
        }
        return ToolResult(ToolStatus.OK, text, data)
