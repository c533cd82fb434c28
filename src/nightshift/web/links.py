"""Where a one-time sign-in link may send the browser: console paths only."""

from __future__ import annotations

from urllib.parse import urlsplit


def local_path(target: str) -> str | None:
    """``target`` when it is a path on this server; None for anything that could
    leave it (``//host``, a scheme, a backslash that browsers read as a slash)."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    if any(ord(ch) < 0x21 for ch in target):  # control characters, spaces
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None
