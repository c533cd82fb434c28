"""Scenario time: durations in files, and the ways kubectl and friends print time.

Every time in a scenario file is written as "how long before the scenario's
fixed ``now``" (``12m``, ``3d4h``), so a scenario renders identically on every
run and can be read without doing date arithmetic.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

# The AGE rule is kubectl's; the simulated world prints with the same function.

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
