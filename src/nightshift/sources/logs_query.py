"""The logs port: one query shape that both log stores (Loki, VictoriaLogs) answer.

A query is exact stream-label matchers (namespace, app), an optional "one of these
namespaces" matcher (the agent's boundaries when it names no namespace), literal
substrings and an optional regular expression over the line, a time window and a
limit. Each backend turns it into its own language (LogQL, LogsQL) and answers
with at most ``limit`` lines, newest first, plus the number of lines that matched
in the window when the store can count them cheaply.

Rendering follows the simulated world's ``logs_search`` (one line per entry,
stream labels in Loki's ``{k="v"}`` style, a "... N more matching lines not shown"
trailer) so the offline reasoner reads real and simulated logs alike.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from nightshift.sources.config import SourceConfig, SourcesError

DEFAULT_LIMIT = 50
MAX_LIMIT = 1000
DEFAULT_WINDOW_MINUTES = 60
MAX_WINDOW_MINUTES = 10080  # a week, as security_events' since_minutes
MAX_LINE_CHARS = 1000  # one log entry as shown; longer ones are cut with a marker
_LABEL = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")
COMMON_KEYS = frozenset(
    {
        "namespace_label",
        "app_label",
        "pod_label",
        "default_limit",
        "max_limit",
        "window_minutes",
        "count_matches",
        "security_query",
        "ca_file",
        "verify_tls",
    }
)


@dataclass(frozen=True, slots=True)
class SecurityQuery:
    """Which log streams carry security events (e.g. the API server's audit log)."""

    streams: Mapping[str, str]
    pattern: str = ""
    regex: bool = False


@dataclass(frozen=True, slots=True)
class LogsSettings:
    namespace_label: str = "namespace"
    app_label: str = "app"
    pod_label: str = "pod"
    default_limit: int = DEFAULT_LIMIT
    max_limit: int = MAX_LIMIT
    window_minutes: int = DEFAULT_WINDOW_MINUTES
    count_matches: bool = True
    security: SecurityQuery | None = None


@dataclass(frozen=True, slots=True)
class LogQuery:
    streams: Mapping[str, str] = field(default_factory=dict)  # label -> exact value
    one_of: tuple[str, tuple[str, ...]] | None = None  # label, allowed values
    contains: tuple[str, ...] = ()  # literal substrings, all required
    regex: str | None = None
    limit: int = DEFAULT_LIMIT
    start_ns: int = 0
    end_ns: int = 0


@dataclass(frozen=True, slots=True)
class LogLine:
    ts_ns: int
    labels: Mapping[str, str]
    line: str


@dataclass(frozen=True, slots=True)
class LogPage:
    lines: Sequence[LogLine]  # newest first, at most the query's limit
    matched: int | None  # lines matching in the window; None when not counted
    native: str  # the query as the store saw it (evidence of what was asked)


class LogsBackend(Protocol):
    async def search(self, query: LogQuery, count: bool) -> LogPage: ...


# -- settings --------------------------------------------------------------------------


def _int(source: SourceConfig, key: str, default: int, low: int, high: int) -> int:
    value = source.setting(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise SourcesError(
            f"source {source.name!r}: settings.{key} must be an integer {low}..{high}"
        )
    return value


def _label(source: SourceConfig, key: str, default: str) -> str:
    value = source.setting(key, default)
    if not isinstance(value, str) or not _LABEL.match(value):
        raise SourcesError(f"source {source.name!r}: settings.{key} must be a label name")
    return value


def _security(source: SourceConfig) -> SecurityQuery | None:
    raw = source.setting("security_query")
    if raw is None:
        return None
    where = f"source {source.name!r}: settings.security_query"
    if not isinstance(raw, Mapping) or set(raw) - {"streams", "pattern", "regex"}:
        raise SourcesError(f"{where} must be a mapping of streams, pattern and regex")
    streams = raw.get("streams") or {}
    if (
        not isinstance(streams, Mapping)
        or not streams
        or not all(isinstance(k, str) and _LABEL.match(k) for k in streams)
        or not all(isinstance(v, str) and v for v in streams.values())
    ):
        raise SourcesError(f"{where}.streams must map label names to values (at least one)")
    pattern, regex = raw.get("pattern", ""), raw.get("regex", False)
    if not isinstance(pattern, str) or not isinstance(regex, bool):
        raise SourcesError(f"{where}: pattern must be a string and regex a boolean")
    return SecurityQuery(dict(streams), pattern, regex)


def parse_settings(source: SourceConfig, backend_keys: frozenset[str]) -> LogsSettings:
    unknown = set(source.settings) - COMMON_KEYS - backend_keys
    if unknown:
        known = ", ".join(sorted(COMMON_KEYS | backend_keys))
        raise SourcesError(
            f"source {source.name!r}: unknown settings {sorted(unknown)} (known: {known})"
        )
    max_limit = _int(source, "max_limit", MAX_LIMIT, 1, 10_000)
    count = source.setting("count_matches", True)
    if not isinstance(count, bool):
        raise SourcesError(f"source {source.name!r}: settings.count_matches must be a boolean")
    return LogsSettings(
        namespace_label=_label(source, "namespace_label", "namespace"),
        app_label=_label(source, "app_label", "app"),
        pod_label=_label(source, "pod_label", "pod"),
        default_limit=_int(source, "default_limit", min(DEFAULT_LIMIT, max_limit), 1, max_limit),
        max_limit=max_limit,
        window_minutes=_int(
            source, "window_minutes", DEFAULT_WINDOW_MINUTES, 1, MAX_WINDOW_MINUTES
        ),
        count_matches=count,
        security=_security(source),
    )


# -- quoting ---------------------------------------------------------------------------


def quote(text: str) -> str:
    """A double-quoted string literal as Go's strconv.Unquote reads it, which is how
    both LogQL and LogsQL parse quoted strings: the text comes back byte for byte,
    so a pattern can never close the literal and add syntax of its own."""
    out = ['"']
    for ch in text:
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


_RE2_SPECIAL = frozenset("\\.+*?()|[]{}^$")


def re2_escape(text: str) -> str:
    return "".join("\\" + ch if ch in _RE2_SPECIAL else ch for ch in text)


# -- time ------------------------------------------------------------------------------


def rfc3339(ts_ns: int) -> str:
    dt = datetime.fromtimestamp(ts_ns // 1_000_000_000, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + f".{(ts_ns // 1_000_000) % 1000:03d}Z"


def rfc3339_nano(ts_ns: int) -> str:
    dt = datetime.fromtimestamp(ts_ns // 1_000_000_000, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + f".{ts_ns % 1_000_000_000:09d}Z"


_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$")


def parse_rfc3339_ns(text: str) -> int:
    """Nanoseconds since the epoch (Python's datetime stops at microseconds)."""
    m = _TIME.match(text)
    if m is None:
        raise ValueError(f"not an RFC 3339 time: {text!r}")
    zone = "+00:00" if m.group(3) == "Z" else m.group(3)
    seconds = int(datetime.fromisoformat(m.group(1) + zone).timestamp())
    return seconds * 1_000_000_000 + int((m.group(2) or "0").ljust(9, "0"))


# -- rendering -------------------------------------------------------------------------


def one_line(text: str, limit: int = MAX_LINE_CHARS) -> str:
    flat = text.rstrip("\n").replace("\r", "").replace("\n", "\\n")
    if len(flat) <= limit:
        return flat
    return flat[:limit] + f" …[+{len(flat) - limit} chars]"


def render_labels(labels: Mapping[str, str], order: Sequence[str]) -> str:
    keys = [k for k in order if k in labels] or sorted(labels)
    return "{" + ", ".join(f"{k}={quote(labels[k])}" for k in keys) + "}"


def render_page(page: LogPage, settings: LogsSettings, window_minutes: int) -> str:
    shown = len(page.lines)
    matched = page.matched if page.matched is not None and page.matched >= shown else None
    total = f"{matched}" if matched is not None else f"at least {shown}"
    noun = "line" if matched == 1 else "lines"
    head = f"{total} {noun} matched in the last {window_minutes} min, showing the newest {shown}"
    order = (settings.namespace_label, settings.app_label, settings.pod_label)
    rows = [
        f"{rfc3339(x.ts_ns)} {render_labels(x.labels, order)} {one_line(x.line)}"
        for x in page.lines
    ]
    text = "\n".join([head, *rows])
    if matched is not None and matched > shown:
        text += (
            f"\n... {matched - shown} more matching lines not shown "
            "(narrow the pattern, namespace, app or since_minutes)"
        )
    return text


def page_data(page: LogPage) -> dict[str, Any]:
    return {"matched": page.matched, "shown": len(page.lines), "query": page.native}
