"""Scenario time: durations in files, and the ways kubectl and friends print time.

Every time in a scenario file is written as "how long before the scenario's
fixed ``now``" (``12m``, ``3d4h``), so a scenario renders identically on every
run and can be read without doing date arithmetic.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

DEFAULT_NOW = datetime(2026, 3, 14, 2, 7, 0, tzinfo=UTC)

_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


def parse_duration(value: object) -> int:
    """``"1h30m"`` -> 5400 seconds. Integers are taken as seconds."""
    if isinstance(value, bool):
        raise ValueError("expected a duration like '90s', '12m', '3h' or '2d4h'")
    if isinstance(value, int):
        if value < 0:
            raise ValueError("duration must not be negative")
        return value
    if not isinstance(value, str):
        raise ValueError("expected a duration like '90s', '12m', '3h' or '2d4h'")
    text = value.strip()
    match = _DURATION.match(text)
    if not text or match is None:
        raise ValueError(f"'{value}' is not a duration like '90s', '12m', '3h' or '2d4h'")
    days, hours, minutes, seconds = (int(g) if g else 0 for g in match.groups())
    return ((days * 24 + hours) * 60 + minutes) * 60 + seconds


def human_duration(seconds: int) -> str:
    """kubectl's ``duration.HumanDuration`` (the AGE column), rule for rule."""
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


def at(now: datetime, ago: int) -> datetime:
    return now - timedelta(seconds=ago)


def rfc1123(moment: datetime) -> str:
    """The timestamp style of ``kubectl describe`` (``Sat, 14 Mar 2026 01:55:02 +0000``)."""
    return moment.strftime("%a, %d %b %Y %H:%M:%S +0000")


def rfc3339(moment: datetime) -> str:
    """The timestamp style of ``-o yaml`` and of most structured logs."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


_STAMP = re.compile(r"\$\{T(?:-([0-9dhms]+))?(?:\|([^}]*))?\}")


def expand_timestamps(text: str, now: datetime) -> str:
    """Replace ``${T-5m}`` (RFC 3339) or ``${T-5m|%H:%M:%S}`` with a real timestamp.

    Log lines in scenario files use this so that their clock agrees with the
    scenario's ``now`` without the author computing wall times by hand.
    """

    def _sub(match: re.Match[str]) -> str:
        moment = at(now, parse_duration(match.group(1)) if match.group(1) else 0)
        fmt = match.group(2)
        return moment.strftime(fmt) if fmt else rfc3339(moment)

    return _STAMP.sub(_sub, text)
