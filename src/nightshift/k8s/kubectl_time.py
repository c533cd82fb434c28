"""How kubectl prints time: AGE columns, describe timestamps, and ``now`` for both.

Every printer takes ``now`` so that a simulated world (fixed clock) and a
recorded cluster print the same object the same way; ``None`` means the
wall clock, as a live ``kubectl`` would.
"""

from __future__ import annotations

from datetime import UTC, datetime


def parse_time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def human_duration(seconds: int) -> str:
    """Go's ``duration.HumanDuration``, rule for rule (the AGE column)."""
    if seconds < -1:
        return "<invalid>"
    if seconds < 0:
        return "0s"
    if seconds < 120:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 10:
        rest = seconds % 60
        return f"{minutes}m" if rest == 0 else f"{minutes}m{rest}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = seconds // 3600
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h" if rest == 0 else f"{hours}h{rest}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        rest = hours % 24
        return f"{hours // 24}d" if rest == 0 else f"{hours // 24}d{rest}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        rest = (hours // 24) % 365
        years = hours // 24 // 365
        return f"{years}y" if rest == 0 else f"{years}y{rest}d"
    return f"{hours // 24 // 365}y"


def since(value: object, now: datetime | None) -> str:
    """``translateTimestampSince``: ``<unknown>`` for a missing timestamp."""
    moment = parse_time(value)
    if moment is None:
        return "<unknown>"
    return human_duration(int(((now or datetime.now(UTC)) - moment).total_seconds()))


def rfc1123z(value: object) -> str:
    """Go's ``time.RFC1123Z`` (``Mon, 02 Jan 2006 15:04:05 -0700``), as describe prints."""
    moment = parse_time(value)
    if moment is None:
        return "<unset>"
    return moment.strftime("%a, %d %b %Y %H:%M:%S %z")


def go_time(value: object) -> str:
    """Go's default ``time.Time`` format (``2006-01-02 15:04:05 -0700 MST``)."""
    moment = parse_time(value)
    if moment is None:
        return "<unset>"
    return moment.strftime("%Y-%m-%d %H:%M:%S %z UTC")
