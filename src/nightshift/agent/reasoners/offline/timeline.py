"""Time awareness: parse timestamps and tell whether a change preceded symptoms."""

from __future__ import annotations

import re
from datetime import UTC, datetime

_ISO = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?")
_AGO = re.compile(r"\b(\d+)\s*(s|m|h|d|sec|min|mins|minutes?|hours?|days?)\s+ago\b", re.I)
_UNIT_S = {
    "s": 1,
    "sec": 1,
    "m": 60,
    "min": 60,
    "mins": 60,
    "minute": 60,
    "minutes": 60,
    "h": 3600,
    "hour": 3600,
    "hours": 3600,
    "d": 86400,
    "day": 86400,
    "days": 86400,
}


def parse_time(text: str) -> float | None:
    """Seconds on a common axis: absolute epoch seconds, or negative 'N ago' offsets."""
    m = _ISO.search(text)
    if m:
        raw = m.group(0).replace(" ", "T").replace("Z", "+00:00")
        try:
            dt = datetime.fromisoformat(raw)
        except ValueError:
            dt = None
        if dt is not None:
            if dt.tzinfo is None:
                dt = dt.replace(tzinfo=UTC)
            return dt.timestamp()
    m = _AGO.search(text)
    if m:
        return -float(m.group(1)) * _UNIT_S.get(m.group(2).lower(), 60)
    return None


def comparable(a: float, b: float) -> bool:
    """Both absolute or both relative ('ago') times."""
    return (a >= 0) == (b >= 0)


# How far after the first symptom a change may be stamped and still count as before it:
# change records carry a second or minute (or "5m ago") and come from other clocks
# than the log lines, and a service's background errors from just before predate it.
# A response to the incident (a restart by the on-call) takes minutes, not seconds.
SKEW_S = 60.0


def preceded(
    change_at: float | None, onset: float | None, window_s: float = 6 * 3600
) -> bool | None:
    """True if the change happened before the symptom onset within the window.

    None when it cannot be told (a missing or incomparable time)."""
    if change_at is None or onset is None or not comparable(change_at, onset):
        return None
    return -SKEW_S <= onset - change_at <= window_s
