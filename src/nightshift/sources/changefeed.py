"""Nightshift's own change feed and received alerts as a source (kind ``changes``).

Reads the control plane through the worker's client (its token reaches only
this investigation's worker endpoints): ``recent_changes`` from
``GET .../worker/changes``, ``firewall_rules`` as the firewall changes of the
feed that mention the target, and ``list_alerts`` from ``GET .../worker/alerts``
(the alerts that started or joined this investigation), summarized like
Alertmanager's. No credential of its own.

    - name: change-feed
      kind: changes
      domain: application
      settings: {alerts: true, firewall_window_minutes: 10080}
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from nightshift.agent.tools import columns
from nightshift.agent.tools.alert_summary import AlertFold, render
from nightshift.agent.tools.catalog import FIREWALL_RULES, LIST_ALERTS, RECENT_CHANGES
from nightshift.agent.tools.protocol import ToolCall, ToolResult, Toolset, ToolSpec, ToolStatus
from nightshift.sources.alertmanager import DEFAULT_TARGET_LABELS
from nightshift.sources.config import SourceConfig, SourcesError
from nightshift.sources.context import SourceContext
from nightshift.sources.http_client import parse_settings

if TYPE_CHECKING:
    import httpx

# The feed's kinds in the words the offline reasoner keys change faults on.
_KIND_WORDS = {"deploy": "deployment", "feature-flag": "feature-flag"}
DEFAULT_MINUTES = 1440


class ChangeFeedSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    alerts: bool = True  # answer list_alerts from the investigation's received alerts
    firewall_window_minutes: int = Field(default=10080, ge=1, le=10080)
    max_fetch_bytes: int = Field(default=4 << 20, ge=64 << 10, le=64 << 20)


def build(source: SourceConfig, context: SourceContext) -> Toolset:
    settings = parse_settings(ChangeFeedSettings, source)
    if context.control_plane is None:
        raise SourcesError(
            f"changes source {source.name!r} reads the control plane: it runs only in a worker"
        )
    return ChangeFeedToolset(
        context.control_plane, context.investigation_id, settings, budget=source.max_answer_chars
    )


class ChangeFeedToolset:
    def __init__(
        self,
        client: httpx.AsyncClient,
        investigation_id: str,
        settings: ChangeFeedSettings | None = None,
        clock: Callable[[], datetime] | None = None,
        budget: int = 16_000,
    ) -> None:
        self._client = client
        self._budget = budget
        self._base = f"/v1/investigations/{investigation_id}/worker"
        self._settings = settings or ChangeFeedSettings()
        self._clock = clock or (lambda: datetime.now(UTC))

    def specs(self) -> Sequence[ToolSpec]:
        tools = (RECENT_CHANGES, FIREWALL_RULES)
        return (*tools, LIST_ALERTS) if self._settings.alerts else tools

    async def call(self, call: ToolCall) -> ToolResult:
        params = dict(call.params)
        if call.name == RECENT_CHANGES.name:
            return await self.recent_changes(params)
        if call.name == FIREWALL_RULES.name:
            return await self.firewall_rules(params)
        if call.name == LIST_ALERTS.name and self._settings.alerts:
            return await self.list_alerts(params)
        why = f"{call.name} is not answered by the change feed"
        return ToolResult(ToolStatus.NO_DATA, why, error=why)

    async def _get(self, path: str, params: Mapping[str, Any]) -> Any | None:
        """The decoded JSON answer, None for 404; never reads past max_fetch_bytes."""
        limit = self._settings.max_fetch_bytes
        async with self._client.stream("GET", self._base + path, params=dict(params)) as resp:
            body = bytearray()
            async for chunk in resp.aiter_bytes():
                body += chunk
                if len(body) > limit:
                    raise RuntimeError(f"answer from {path} exceeds {limit} bytes")
            if resp.status_code == 404:
                return None
            if resp.status_code >= 400:
                text = bytes(body[:300]).decode("utf-8", errors="replace")
                raise RuntimeError(f"HTTP {resp.status_code} from the control plane: {text}")
        return json.loads(body)

    async def _changes(self, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        found = await self._get("/changes", params)
        if found is None:
            raise RuntimeError("this control plane has no change feed (404)")
        changes: list[dict[str, Any]] = found.get("changes") or []
        return changes

    async def recent_changes(self, p: Mapping[str, Any]) -> ToolResult:
        minutes = int(p.get("since_minutes") or DEFAULT_MINUTES)
        query: dict[str, Any] = {"since_minutes": minutes, "limit": 200}
        if p.get("domain"):
            query["domain"] = str(p["domain"])
        changes = await self._changes(query)
        if not changes:
            why = f"no changes recorded in the change feed in the last {minutes} minutes"
            return ToolResult(ToolStatus.NO_DATA, why)
        return ToolResult(ToolStatus.OK, self.table(changes), {"changes": changes})

    async def firewall_rules(self, p: Mapping[str, Any]) -> ToolResult:
        minutes = self._settings.firewall_window_minutes
        query = {"since_minutes": minutes, "kind": "firewall", "limit": 500}
        target = str(p.get("target") or "").strip()
        changes = [c for c in await self._changes(query) if _mentions(c, target)]
        about = f" mentioning {target!r}" if target else ""
        if not changes:
            why = f"no firewall changes in the change feed{about} in the last {minutes} minutes"
            return ToolResult(ToolStatus.NO_DATA, why)
        head = f"Firewall changes from the change feed{about}, newest first:\n"
        return ToolResult(ToolStatus.OK, head + self.table(changes), {"changes": changes})

    def table(self, changes: Sequence[Mapping[str, Any]]) -> str:
        now = self._clock()
        rows = []
        for c in changes:
            at = datetime.fromisoformat(str(c["at"]).replace("Z", "+00:00"))
            kind = str(c.get("kind", ""))
            rows.append(
                [
                    at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    _age((now - at).total_seconds()),
                    str(c.get("ref", "")),
                    str(c.get("domain", "")),
                    _KIND_WORDS.get(kind, kind),
                    str(c.get("target", "")),
                    str(c.get("actor", "")),
                    str(c.get("summary", "")),
                ]
            )
        head = ["TIME", "AGE", "ID", "DOMAIN", "KIND", "TARGET", "ACTOR", "SUMMARY"]
        text = columns.table(head, rows)
        details = [
            f"  {c['ref']}: {' '.join(str(c['details']).split())}"
            for c in changes
            if c.get("details")
        ]
        if details:
            text += "\n\nDetails:\n" + "\n".join(details)
        return text

    async def list_alerts(self, p: Mapping[str, Any]) -> ToolResult:
        found = await self._get("/alerts", {})
        if found is None:
            return ToolResult(
                ToolStatus.NO_DATA, "no alerts: this control plane has no alert intake"
            )
        severity, domain = str(p.get("severity") or ""), str(p.get("domain") or "")
        fold = AlertFold()
        for alert in found.get("alerts") or []:
            labels = {str(k): str(v) for k, v in (alert.get("labels") or {}).items()}
            if alert.get("status") != "firing":
                continue
            if (severity and labels.get("severity") != severity) or (
                domain and labels.get("domain", domain) != domain
            ):
                continue
            annotations = alert.get("annotations") or {}
            summary = next(
                (
                    str(annotations[k])
                    for k in ("description", "summary", "message")
                    if annotations.get(k)
                ),
                "",
            )
            starts = datetime.fromisoformat(str(alert["starts_at"]).replace("Z", "+00:00"))
            fold.add(
                labels.get("alertname", "(unnamed)"),
                labels.get("severity", ""),
                _alert_target(labels),
                labels.get("domain", ""),
                " ".join(summary.split())[:200],
                starts.timestamp(),
            )
        if fold.total == 0:
            return ToolResult(ToolStatus.NO_DATA, "no alerts firing for this investigation")
        text = render(fold, self._clock().timestamp(), self._budget)
        return ToolResult(ToolStatus.OK, text, {"total": fold.total, "groups": len(fold.groups)})


def _mentions(change: Mapping[str, Any], target: str) -> bool:
    if not target:
        return True
    wanted = target.lower()
    short = wanted.split("/")[-1].split(".")[0]
    recorded = str(change.get("target", "")).lower()
    text = " ".join(str(change.get(k, "")) for k in ("target", "summary", "details")).lower()
    return (
        wanted in text
        or (len(short) >= 3 and short in text)
        or (bool(recorded) and recorded in wanted)
    )


def _alert_target(labels: Mapping[str, str]) -> str:
    namespace = labels.get("namespace", "")
    name = next((labels[k] for k in DEFAULT_TARGET_LABELS if labels.get(k)), "")
    if namespace and name:
        return f"{namespace}/{name}"
    return namespace or name or "cluster"


def _age(seconds: float) -> str:
    s = max(0, int(seconds))
    if s < 120:
        return f"{s}s"
    if s < 3 * 3600:
        return f"{s // 60}m"
    if s < 48 * 3600:
        return f"{s // 3600}h"
    return f"{s // 86400}d"
