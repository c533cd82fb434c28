"""Timestamps in API responses always carry their offset (RFC 3339).

SQLite hands datetimes back without a timezone even for columns declared
``timezone=True``; every stored time is UTC, so a naive value is UTC. Every
datetime field of a response schema uses :data:`Timestamp` (a test walks the
app's response models to keep it so).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator


def as_utc(value: datetime) -> datetime:
    """Naive means UTC here; aware values are normalized to UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


AWARE = AfterValidator(as_utc)
Timestamp = Annotated[datetime, AWARE]
