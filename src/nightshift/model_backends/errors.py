"""Mapping SDK failures onto the agent's two error kinds (retry or give up)."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping

from nightshift.agent.reasoners.llm.provider import ModelError, RetryableModelError

RETRYABLE_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 529})


def retry_after(headers: Mapping[str, str] | None) -> float | None:
    """Seconds from ``retry-after-ms`` or ``retry-after`` (seconds or an HTTP date)."""
    if not headers:
        return None
    raw_ms = headers.get("retry-after-ms")
    if raw_ms:
        try:
            return max(float(raw_ms) / 1000, 0.0)
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if not raw:
        return None
    try:
        return max(float(raw), 0.0)
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(raw) if raw.strip() else None
        return None if parsed is None else max(parsed.timestamp() - time.time(), 0.0)


def from_status(status: int, message: str, headers: Mapping[str, str] | None) -> ModelError:
    if status in RETRYABLE_STATUS:
        return RetryableModelError(message, status=status, retry_after=retry_after(headers))
    return ModelError(message, status=status)
